import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import ReplayIcon from "@mui/icons-material/Replay";
import { Alert, Box, Button, CircularProgress, IconButton, Paper, Tooltip, Typography } from "@mui/material";
import type { MessageOut } from "../../api/types";
import { Markdown } from "../../markdown/Markdown";
import { useReply } from "../../streaming";
import { Citations } from "./Citations";

interface Props {
  message: MessageOut;
  isLast: boolean;
  onRegenerate?: () => void;
}

export function MessageItem({ message, isLast, onRegenerate }: Props) {
  // a reply followed live keeps its streamed text; the stored one is shown after a reload
  const live = useReply(message.role === "assistant" ? message.id : null);
  if (message.role === "user") {
    return (
      <Box sx={{ display: "flex", justifyContent: "flex-end" }} data-role="user">
        <Paper
          elevation={0}
          sx={{
            px: 2,
            py: 1,
            maxWidth: "85%",
            bgcolor: (t) => (t.palette.mode === "dark" ? "#26354d" : "#dbe7fb"),
            whiteSpace: "pre-wrap",
            overflowWrap: "anywhere",
          }}
        >
          {message.content}
        </Paper>
      </Box>
    );
  }
  const status = live?.status ?? message.status;
  const text = live ? live.text : message.content;
  const citations = (live?.citations.length ? live.citations : message.citations) ?? [];
  const error = live?.error ?? message.error;
  const streaming = status === "generating" || status === "queued";
  return (
    <Box data-role="assistant" data-message-id={message.id} data-status={status} className="assistant-message">
      {status === "queued" && !text && (
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, color: "text.secondary" }} role="status">
          <CircularProgress size={14} />
          <Typography variant="body2">Waiting for a worker…</Typography>
          {live?.queuePosition != null && live.queuePosition > 1 && (
            <Typography variant="body2" data-testid="queue-position">
              {live.queuePosition - 1} {live.queuePosition === 2 ? "reply" : "replies"} ahead
            </Typography>
          )}
        </Box>
      )}
      {status === "generating" && !text && (
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, color: "text.secondary" }} role="status">
          <CircularProgress size={14} />
          <Typography variant="body2">Thinking…</Typography>
        </Box>
      )}
      {text && (
        <Box className="reply-text" sx={streaming ? { "& .markdown > :last-child::after": { content: '"▍"', ml: 0.25 } } : undefined}>
          <Markdown text={text} />
        </Box>
      )}
      {status === "cancelled" && (
        <Typography variant="caption" color="text.secondary" className="reply-stopped">
          Stopped.
        </Typography>
      )}
      {status === "error" && (
        <Alert severity="error" sx={{ mt: 1 }}>
          The reply failed: {error ?? "unknown error"}
        </Alert>
      )}
      <Citations citations={citations} />
      {!streaming && (
        <Box sx={{ display: "flex", alignItems: "center", gap: 0.5, mt: 0.5, color: "text.secondary" }}>
          {text && (
            <Tooltip title="Copy reply">
              <IconButton size="small" aria-label="Copy reply" onClick={() => void navigator.clipboard?.writeText(text)}>
                <ContentCopyIcon fontSize="inherit" />
              </IconButton>
            </Tooltip>
          )}
          {isLast && onRegenerate && (
            <Button size="small" startIcon={<ReplayIcon />} onClick={onRegenerate}>
              Regenerate
            </Button>
          )}
          {message.tokens_per_second != null && (
            <Typography variant="caption" sx={{ ml: "auto" }}>
              {message.completion_tokens} tokens · {message.tokens_per_second.toFixed(1)} tok/s
            </Typography>
          )}
        </Box>
      )}
    </Box>
  );
}
