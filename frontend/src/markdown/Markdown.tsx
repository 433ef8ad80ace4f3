import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import DoneIcon from "@mui/icons-material/Done";
import { Box, IconButton, Tooltip } from "@mui/material";
import { memo, useRef, useState, type ComponentPropsWithoutRef } from "react";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { remarkHtmlAsText, safeUrl } from "./sanitize";

function CodeBlock(props: ComponentPropsWithoutRef<"pre">) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    const text = ref.current?.innerText ?? "";
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Box sx={{ position: "relative", "&:hover .copy": { opacity: 1 } }}>
      <Tooltip title={copied ? "Copied" : "Copy code"}>
        <IconButton
          className="copy"
          size="small"
          aria-label="Copy code"
          onClick={copy}
          sx={{ position: "absolute", top: 4, right: 4, opacity: 0.7, bgcolor: "background.paper" }}
        >
          {copied ? <DoneIcon fontSize="inherit" /> : <ContentCopyIcon fontSize="inherit" />}
        </IconButton>
      </Tooltip>
      <pre ref={ref} {...props} />
    </Box>
  );
}

function SafeLink({ href, children }: ComponentPropsWithoutRef<"a">) {
  if (!href) return <span>{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** Images from a model could track readers: only the alt text is shown. */
function ImageAsText({ alt }: ComponentPropsWithoutRef<"img">) {
  return <span>{alt ? `[image: ${alt}]` : "[image]"}</span>;
}

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <Box
      className="markdown"
      sx={{
        overflowWrap: "anywhere",
        "& > :first-of-type": { mt: 0 },
        "& > :last-child": { mb: 0 },
        "& p": { my: 1 },
        "& pre": {
          p: 1.5,
          pr: 5,
          borderRadius: 1,
          overflowX: "auto",
          bgcolor: (t) => (t.palette.mode === "dark" ? "#0d1117" : "#f3f4f6"),
          fontSize: "0.85rem",
        },
        "& code": { fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace" },
        "& :not(pre) > code": {
          px: 0.5,
          borderRadius: 0.5,
          bgcolor: (t) => (t.palette.mode === "dark" ? "#2a2f37" : "#eceef1"),
        },
        "& table": { borderCollapse: "collapse" },
        "& th, & td": { border: 1, borderColor: "divider", px: 1 },
        "& a": { color: "primary.main" },
      }}
    >
      <ReactMarkdown
        remarkPlugins={[remarkGfm, remarkHtmlAsText]}
        rehypePlugins={[[rehypeHighlight, { detect: true, ignoreMissing: true }]]}
        urlTransform={safeUrl}
        components={{ pre: CodeBlock, a: SafeLink, img: ImageAsText }}
      >
        {text}
      </ReactMarkdown>
    </Box>
  );
});
