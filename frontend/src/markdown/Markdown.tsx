import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import DoneIcon from "@mui/icons-material/Done";
import { Box, IconButton, Tooltip } from "@mui/material";
import { memo, useEffect, useMemo, useRef, useState, type ComponentPropsWithoutRef } from "react";
import ReactMarkdown, { type Options } from "react-markdown";
import remarkGfm from "remark-gfm";
import { remarkCiteMarkers } from "./citeMarkers";
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

/** Opens source n of the reply (its marker is the anchor of what opens). */
export type OnCite = (source: number, anchor: HTMLElement) => void;

function SafeLink({ href, children, className, ...rest }: ComponentPropsWithoutRef<"a"> & { onCite?: OnCite }) {
  const source = Number((rest as Record<string, unknown>)["data-source"]);
  if (className?.includes("cite-marker") && source > 0) {
    return (
      <sup>
        <a
          href={href}
          className="cite-marker"
          aria-label={`Source ${source}`}
          onClick={(e) => {
            e.preventDefault();
            rest.onCite?.(source, e.currentTarget);
          }}
        >
          {children}
        </a>
      </sup>
    );
  }
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

// highlight.js and its languages are a chunk of their own, fetched after the page is up: code
// shows plain first, highlighted once it arrives (every reply renders with the same plugins)
type PluggableList = NonNullable<Options["rehypePlugins"]>;
let highlighting: PluggableList | null = null;
const loadingHighlight = import("rehype-highlight").then((module) => {
  highlighting = [[module.default, { detect: true, ignoreMissing: true }]];
  return highlighting;
});
const NONE: PluggableList = [];

function useHighlighting(): PluggableList {
  const [plugins, setPlugins] = useState<PluggableList>(highlighting ?? NONE);
  useEffect(() => {
    if (highlighting) return;
    let live = true;
    void loadingHighlight.then((loaded) => live && setPlugins(loaded));
    return () => {
      live = false;
    };
  }, []);
  return plugins;
}

interface MarkdownProps {
  text: string;
  /** How many sources the reply cites: "[n]" up to it becomes a marker that calls onCite. */
  sources?: number;
  onCite?: OnCite;
}

export const Markdown = memo(function Markdown({ text, sources = 0, onCite }: MarkdownProps) {
  const rehypePlugins = useHighlighting();
  const components = useMemo<Options["components"]>(
    () => ({ pre: CodeBlock, a: (props) => <SafeLink {...props} onCite={onCite} />, img: ImageAsText }),
    [onCite],
  );
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
        "& .cite-marker": { textDecoration: "none", fontWeight: 600, px: 0.25 },
      }}
    >
      <ReactMarkdown
        remarkPlugins={[remarkGfm, remarkHtmlAsText, [remarkCiteMarkers, { sources }]]}
        rehypePlugins={rehypePlugins}
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </Box>
  );
});
