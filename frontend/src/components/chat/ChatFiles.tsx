// Files in a chat: the paperclip that picks them, and their chips (name, reading progress or
// error, remove) above the message box until the question that carries them is sent.
import AttachFileIcon from "@mui/icons-material/AttachFile";
import { Box, Chip, IconButton, Tooltip } from "@mui/material";
import { useRef } from "react";
import type { ChatFileOut } from "../../api/types";
import { isReading } from "../../queries/chatFiles";

export const ACCEPTED = ".txt,.md,.markdown,.html,.htm,.pdf,.docx";

/** A file chosen in a chat not made yet (uploaded with the first message), or one stored. */
export type PickedFile = { key: string; name: string; file?: File; stored?: ChatFileOut };

export function fileState(stored: ChatFileOut | undefined): string {
  if (!stored) return "to send";
  if (stored.status === "error") return `unreadable: ${stored.error ?? "error"}`;
  if (isReading(stored)) return `reading ${Math.round(stored.progress * 100)}%`;
  return "ready";
}

export function AttachButton({ onPick, disabled }: { onPick: (files: File[]) => void; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <Tooltip title="Attach files (.txt, .md, .html, .pdf, .docx): the reply reads them">
        <span>
          <IconButton aria-label="Attach files" onClick={() => input.current?.click()} disabled={disabled}>
            <AttachFileIcon />
          </IconButton>
        </span>
      </Tooltip>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        accept={ACCEPTED}
        data-testid="attach-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = "";
          if (files.length) onPick(files);
        }}
      />
    </>
  );
}

export function PickedFiles({ files, onRemove }: { files: PickedFile[]; onRemove: (file: PickedFile) => void }) {
  if (!files.length) return null;
  return (
    <Box sx={{ display: "flex", flexWrap: "wrap", gap: 0.5, mb: 1 }} data-testid="picked-files">
      {files.map((file) => (
        <Chip
          key={file.key}
          size="small"
          icon={<AttachFileIcon />}
          color={file.stored?.status === "error" ? "error" : "default"}
          label={`${file.name} · ${fileState(file.stored)}`}
          onDelete={() => onRemove(file)}
          data-status={file.stored?.status ?? "local"}
        />
      ))}
    </Box>
  );
}
