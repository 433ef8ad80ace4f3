// Versions of a turn: ‹ 2/3 › between the edits of a question or the regenerations of a reply,
// and the box in which a question is edited and sent again (the old version stays).
import ChevronLeftIcon from "@mui/icons-material/ChevronLeft";
import ChevronRightIcon from "@mui/icons-material/ChevronRight";
import { Box, Button, IconButton, TextField, Typography } from "@mui/material";
import { useState, type KeyboardEvent, type ReactNode } from "react";
import type { MessageOut } from "../../api/types";

/** Where this message stands among its versions: its 1-based place, the count, its neighbours. */
export function versionPlace(message: Pick<MessageOut, "id" | "versions">) {
  const versions = message.versions ?? [];
  const index = versions.indexOf(message.id);
  return {
    place: index + 1,
    count: versions.length,
    previous: index > 0 ? versions[index - 1] : null,
    next: index >= 0 && index < versions.length - 1 ? versions[index + 1] : null,
  };
}

interface SwitchProps {
  message: MessageOut;
  /** shows the chat's branch through the version given */
  onShow: (messageId: number) => void;
  disabled?: boolean;
  what: "question" | "reply";
}

/** ‹ 2/3 ›, shown when the message has more than one version. */
export function VersionSwitch({ message, onShow, disabled = false, what }: SwitchProps) {
  const { place, count, previous, next } = versionPlace(message);
  if (count < 2 || place < 1) return null;
  const step = (label: string, to: number | null, icon: ReactNode) => (
    <IconButton size="small" aria-label={`${label} version of this ${what}`} disabled={disabled || to === null}
      onClick={() => to !== null && onShow(to)}>
      {icon}
    </IconButton>
  );
  return (
    <Box sx={{ display: "inline-flex", alignItems: "center", color: "text.secondary" }} data-testid="versions">
      {step("Previous", previous, <ChevronLeftIcon fontSize="inherit" />)}
      <Typography variant="caption" aria-label={`version ${place} of ${count}`}>
        {place}/{count}
      </Typography>
      {step("Next", next, <ChevronRightIcon fontSize="inherit" />)}
    </Box>
  );
}

interface EditorProps {
  initial: string;
  maxChars?: number;
  /** sends the edited question; true when it was accepted (the editor closes) */
  onSubmit: (text: string) => Promise<boolean>;
  onCancel: () => void;
}

/** The question's text in a box: Enter (or "Send") sends it as a new version, Escape cancels. */
export function QuestionEditor({ initial, maxChars, onSubmit, onCancel }: EditorProps) {
  const [text, setText] = useState(initial);
  const [sending, setSending] = useState(false);
  const empty = text.trim() === "";
  const tooLong = maxChars !== undefined && text.length > maxChars;
  const submit = async () => {
    if (empty || tooLong || sending) return;
    setSending(true);
    const accepted = await onSubmit(text);
    setSending(false);
    if (accepted) onCancel();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    } else if (e.key === "Escape") {
      e.stopPropagation();
      onCancel();
    }
  };
  return (
    <Box sx={{ width: "min(100%, 640px)" }} data-testid="question-editor">
      <TextField
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        multiline
        fullWidth
        autoFocus
        maxRows={10}
        slotProps={{ htmlInput: { "aria-label": "Edited question" } }}
        error={empty || tooLong}
        helperText={
          empty ? "The question cannot be empty." : tooLong ? `At most ${maxChars} characters (${text.length} now).` : " "
        }
      />
      <Box sx={{ display: "flex", justifyContent: "flex-end", gap: 1 }}>
        <Button size="small" onClick={onCancel}>
          Cancel
        </Button>
        <Button size="small" variant="contained" onClick={() => void submit()} disabled={empty || tooLong || sending}>
          Send edit
        </Button>
      </Box>
    </Box>
  );
}
