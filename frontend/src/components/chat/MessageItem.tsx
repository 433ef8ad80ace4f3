import AttachFileIcon from "@mui/icons-material/AttachFile";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import EditOutlinedIcon from "@mui/icons-material/EditOutlined";
import ReplayIcon from "@mui/icons-material/Replay";
import { Alert, Box, Button, Chip, CircularProgress, IconButton, Paper, type Theme, Tooltip, Typography } from "@mui/material";
import { useCallback, useState } from "react";
import type { MessageOut } from "../../api/types";
import { Markdown } from "../../markdown/Markdown";
import { useReply } from "../../streaming";
import { Citations, type OpenSource } from "./Citations";
import { FeedbackButtons } from "./FeedbackButtons";
import { QuestionEditor, VersionSwitch } from "./MessageVersions";

/** A question's bubble (also on a shared chat's page). */
export const USER_BUBBLE = {
  px: 2,
  py: 1,
  maxWidth: "85%",
  bgcolor: (t: Theme) => (t.palette.mode === "dark" ? "#26354d" : "#dbe7fb"),
  whiteSpace: "pre-wrap",
  overflowWrap: "anywhere",
} as const;

interface Props {
  message: MessageOut;
  isLast: boolean;
  onRegenerate?: () => void;
  /** Asks the model to go on after a reply cut at the length limit (a new turn). */
  onContinue?: () => void;
  /** Deletes this question and its reply (offered on questions). */
  onDelete?: () => void;
  /** A source of this reply was opened: the side panel shows its sources (given its id;
   * one function for every message, so that a reply's markdown is not drawn again). */
  onSources?: (messageId: number) => void;
  /** this reply's sources are the ones in the side panel */
  selected?: boolean;
  /** Sends an edited question as a new version (offered on questions); true when accepted. */
  onEdit?: (text: string) => Promise<boolean>;
  /** Shows the chat's branch through another version of this message. */
  onShowVersion?: (messageId: number) => void;
  /** a reply is being generated in the chat: no edit, no switching versions */
  locked?: boolean;
  maxChars?: number;
  /** a file of the chat is being read: a queued reply waits for it */
  readingFiles?: boolean;
}

export const CONTINUE_PROMPT = "Continue exactly where you stopped.";

export function MessageItem({
  message,
  isLast,
  onRegenerate,
  onContinue,
  onDelete,
  onSources,
  selected = false,
  onEdit,
  onShowVersion,
  locked = false,
  maxChars,
  readingFiles = false,
}: Props) {
  // a reply followed live keeps its streamed text; the stored one is shown after a reload
  const live = useReply(message.role === "assistant" ? message.id : null);
  const [source, setSource] = useState<OpenSource | null>(null);
  const openSource = useCallback(
    (open: OpenSource | null) => {
      setSource(open);
      if (open) onSources?.(message.id);
    },
    [onSources, message.id],
  );
  const cite = useCallback((n: number, anchor: HTMLElement) => openSource({ anchor, index: n - 1 }), [openSource]);
  const [editing, setEditing] = useState(false);
  const versions = onShowVersion && (
    <VersionSwitch message={message} onShow={onShowVersion} disabled={locked} what={message.role === "user" ? "question" : "reply"} />
  );
  if (message.role === "user" && editing && onEdit) {
    return (
      <Box sx={{ display: "flex", justifyContent: "flex-end" }} data-message-id={message.id}>
        <QuestionEditor initial={message.content} maxChars={maxChars} onSubmit={onEdit} onCancel={() => setEditing(false)} />
      </Box>
    );
  }
  if (message.role === "user") {
    return (
      <Box
        sx={{ display: "flex", justifyContent: "flex-end", alignItems: "center", gap: 0.5, "&:hover .question-action, & .question-action:focus-visible": { opacity: 1 } }}
      >
        {versions}
        {onEdit && (
          <Tooltip title={locked ? "Wait for the reply to finish (or stop it) to edit" : "Edit and send again"}>
            <span>
              <IconButton size="small" className="question-action" aria-label="Edit question" disabled={locked} onClick={() => setEditing(true)} sx={{ opacity: { xs: 1, md: 0 } }}>
                <EditOutlinedIcon fontSize="inherit" />
              </IconButton>
            </span>
          </Tooltip>
        )}
        <Tooltip title="Copy question">
          <IconButton size="small" className="question-action" aria-label="Copy question" onClick={() => void navigator.clipboard?.writeText(message.content)} sx={{ opacity: { xs: 1, md: 0 } }}>
            <ContentCopyIcon fontSize="inherit" />
          </IconButton>
        </Tooltip>
        {onDelete && (
          <Tooltip title="Delete this question and its reply">
            <IconButton size="small" className="question-action" aria-label="Delete this question and its reply" onClick={onDelete} sx={{ opacity: { xs: 1, md: 0 } }}>
              <DeleteOutlinedIcon fontSize="inherit" />
            </IconButton>
          </Tooltip>
        )}
        <Paper
          data-role="user"
          data-message-id={message.id}
          elevation={0}
          sx={USER_BUBBLE}
        >
          {message.content}
          {(message.files ?? []).length > 0 && (
            <Box sx={{ display: "flex", flexWrap: "wrap", gap: 0.5, mt: 0.5 }} data-testid="sent-files">
              {(message.files ?? []).map((file) => (
                <Chip key={file.id} size="small" icon={<AttachFileIcon />} label={file.title} data-status={file.status} />
              ))}
            </Box>
          )}
        </Paper>
      </Box>
    );
  }
  const status = live?.status ?? message.status;
  const text = live ? live.text : message.content;
  const citations = (live?.citations.length ? live.citations : message.citations) ?? [];
  const error = live?.error ?? message.error;
  const finishReason = live?.finishReason ?? message.finish_reason ?? null;
  const streaming = status === "generating" || status === "queued";
  return (
    <Box
      data-role="assistant"
      data-message-id={message.id}
      data-status={status}
      data-selected={selected ? "true" : undefined}
      className="assistant-message"
      sx={selected ? { borderLeft: 3, borderColor: "primary.main", pl: 1.5, ml: -1.875 } : undefined}
    >
      {status === "queued" && !text && (
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, color: "text.secondary" }} role="status">
          <CircularProgress size={14} />
          <Typography variant="body2">{readingFiles ? "Reading file…" : "Waiting for a worker…"}</Typography>
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
          <Markdown text={text} sources={citations.length} onCite={cite} />
        </Box>
      )}
      {status === "cancelled" && (
        <Typography variant="caption" color="text.secondary" className="reply-stopped">
          Stopped.
        </Typography>
      )}
      {status === "done" && finishReason === "length" && (
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, mt: 0.5 }} data-testid="length-notice">
          <Typography variant="caption" color="text.secondary">
            Cut at the length limit.
          </Typography>
          {isLast && onContinue && (
            <Button size="small" onClick={onContinue}>
              Continue
            </Button>
          )}
        </Box>
      )}
      {status === "done" && finishReason === "budget" && (
        <Alert severity="info" sx={{ mt: 1 }} data-testid="budget-notice">
          Your token budget ran out, so the reply stops here. Your usage page shows what you used; the
          budget renews at the start of the next day or month.
        </Alert>
      )}
      {status === "error" && (
        <Alert severity="error" sx={{ mt: 1 }}>
          The reply failed: {error ?? "unknown error"}
        </Alert>
      )}
      <Citations citations={citations} open={source} onOpen={openSource} />
      {!streaming && (
        <Box sx={{ display: "flex", alignItems: "center", flexWrap: "wrap", gap: 0.5, mt: 0.5, color: "text.secondary" }}>
          {text && (
            <Tooltip title="Copy reply">
              <IconButton size="small" aria-label="Copy reply" onClick={() => void navigator.clipboard?.writeText(text)}>
                <ContentCopyIcon fontSize="inherit" />
              </IconButton>
            </Tooltip>
          )}
          <FeedbackButtons message={message} />
          {versions}
          {isLast && onRegenerate && (
            <Button size="small" startIcon={<ReplayIcon />} onClick={onRegenerate}>
              Regenerate
            </Button>
          )}
          {(message.model_name || message.tokens_per_second != null) && (
            <Typography variant="caption" sx={{ ml: "auto" }}>
              {message.model_name && <span data-testid="reply-model">{message.model_name}</span>}
              {message.model_name && message.tokens_per_second != null && " · "}
              {message.tokens_per_second != null &&
                `${message.completion_tokens} tokens · ${message.tokens_per_second.toFixed(1)} tok/s`}
            </Typography>
          )}
        </Box>
      )}
    </Box>
  );
}
