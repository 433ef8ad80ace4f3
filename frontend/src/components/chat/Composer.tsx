import SendIcon from "@mui/icons-material/Send";
import StopIcon from "@mui/icons-material/Stop";
import { Box, Button, TextField } from "@mui/material";
import { type ReactNode, useState } from "react";

interface Props {
  busy: boolean;
  disabled?: boolean;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  /** The longest message the server takes (characters); the counter shows from 80% of it. */
  maxChars?: number;
  /** beside the message box, on its left (a phone's settings button) */
  leading?: ReactNode;
  /** a phone: Send and Stop show their icons alone (the box keeps the width) */
  compact?: boolean;
}

const COUNTER_FROM = 0.8;

/** Enter sends, Shift+Enter adds a line; while a reply runs the button stops it. */
export function Composer({ busy, disabled, onSend, onStop, maxChars, leading, compact = false }: Props) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const over = maxChars !== undefined ? text.length - maxChars : -1;
  const counted = maxChars !== undefined && text.length >= maxChars * COUNTER_FROM;
  const submit = async () => {
    if (!text.trim() || busy || sending || over > 0) return;
    setSending(true);
    try {
      if (await onSend(text)) setText("");
    } finally {
      setSending(false);
    }
  };
  return (
    <Box sx={{ display: "flex", gap: 1, alignItems: "flex-end" }}>
      {leading && <Box sx={{ height: 56, display: "flex", alignItems: "center", flexShrink: 0 }}>{leading}</Box>}
      <TextField
        fullWidth
        multiline
        maxRows={8}
        placeholder="Message QueueChat"
        value={text}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        error={over > 0}
        helperText={
          counted && maxChars !== undefined ? (
            <span data-testid="char-counter" aria-live="polite">
              {text.length.toLocaleString("en")} / {maxChars.toLocaleString("en")}
              {over > 0 && ` — ${over.toLocaleString("en")} character${over === 1 ? "" : "s"} too many`}
            </span>
          ) : undefined
        }
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
        slotProps={{ htmlInput: { "aria-label": "Message" } }}
      />
      {busy ? (
        <Button
          variant="contained"
          color="warning"
          onClick={onStop}
          aria-label="Stop"
          startIcon={compact ? undefined : <StopIcon />}
          sx={{ flexShrink: 0, height: 56, minWidth: compact ? 48 : undefined }}
        >
          {compact ? <StopIcon /> : "Stop"}
        </Button>
      ) : (
        <Button
          variant="contained"
          onClick={() => void submit()}
          disabled={!text.trim() || sending || disabled || over > 0}
          aria-label="Send"
          startIcon={compact ? undefined : <SendIcon />}
          sx={{ flexShrink: 0, height: 56, minWidth: compact ? 48 : undefined }}
        >
          {compact ? <SendIcon /> : "Send"}
        </Button>
      )}
    </Box>
  );
}
