import CloudUploadOutlinedIcon from "@mui/icons-material/CloudUploadOutlined";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import DownloadIcon from "@mui/icons-material/Download";
import RefreshIcon from "@mui/icons-material/Refresh";
import { Alert, Box, Chip, IconButton, LinearProgress, Paper, Tooltip, Typography } from "@mui/material";
import { useRef, useState, type DragEvent } from "react";
import type { RejectedFile } from "../../api/types";
import { inProgress, useDocumentCalls, useDocuments } from "../../queries/documents";
import { useConfirm } from "../ConfirmDialog";
import { useErrorAlert } from "../useErrorAlert";

const STATUS_COLOR = {
  queued: "default",
  extracting: "info",
  embedding: "info",
  ready: "success",
  error: "error",
} as const;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function DocumentsPanel() {
  const list = useDocuments();
  const alert = useErrorAlert(list);
  const { upload: uploadFiles, uploading, reindex, remove, download } = useDocumentCalls();
  const [confirmDialog, confirm] = useConfirm();
  const deleteDocument = async (id: number, name: string) => {
    const sure = await confirm({
      title: `Delete ${name}?`,
      text: "Its text leaves the knowledge base: chats stop citing it. This cannot be undone.",
      action: "Delete",
    });
    if (sure) await alert.attempt(() => remove(id));
  };
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const documents = list.data?.items ?? [];

  // the files the last upload refused, each with its reason (the others were taken)
  const [refused, setRefused] = useState<RejectedFile[]>([]);
  const upload = (files: File[]) => {
    if (files.length === 0) return;
    setRefused([]);
    void alert.attempt(async () => setRefused((await uploadFiles(files)).rejected ?? []));
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    upload([...e.dataTransfer.files]);
  };

  return (
    <>
      {confirmDialog}
      <Typography variant="h6" gutterBottom>
        Knowledge-base documents
      </Typography>
      {refused.length > 0 && (
        <Alert severity="warning" onClose={() => setRefused([])} sx={{ mb: 1 }} data-testid="refused-files">
          {refused.length === 1 ? "One file was not taken:" : `${refused.length} files were not taken:`}
          <Box component="ul" sx={{ m: 0, pl: 2.5 }}>
            {refused.map((file) => (
              <li key={file.name}>{file.message}</li>
            ))}
          </Box>
        </Alert>
      )}
      <Paper
        variant="outlined"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        onClick={() => input.current?.click()}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            input.current?.click();
          }
        }}
        role="button"
        tabIndex={0}
        aria-describedby="upload-types"
        sx={{
          p: 4,
          mb: 2,
          textAlign: "center",
          cursor: "pointer",
          borderStyle: "dashed",
          borderWidth: 2,
          borderColor: dragging ? "primary.main" : "divider",
          bgcolor: dragging ? "action.hover" : "background.paper",
        }}
      >
        <CloudUploadOutlinedIcon sx={{ fontSize: 40, color: "text.secondary" }} />
        <Typography>
          {uploading ? "Uploading…" : "Upload documents: drop files here, or click to choose (several at once)"}
        </Typography>
        <Typography variant="caption" color="text.secondary" id="upload-types">
          PDF, Markdown, text, HTML, DOCX
        </Typography>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          data-testid="document-input"
          onChange={(e) => {
            upload([...(e.target.files ?? [])]);
            e.target.value = "";
          }}
        />
      </Paper>
      {alert.message && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      <Box sx={{ display: "flex", flexDirection: "column", gap: 1 }}>
        {list.isSuccess && documents.length === 0 && (
          <Typography color="text.secondary">No documents yet.</Typography>
        )}
        {documents.map((doc) => (
          <Paper key={doc.id} sx={{ p: 2 }} data-document={doc.original_name} data-status={doc.status}>
            <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
              <Box sx={{ flex: 1, minWidth: 160 }}>
                <Typography sx={{ fontWeight: 600, overflowWrap: "anywhere" }}>{doc.title || doc.original_name}</Typography>
                <Typography variant="caption" color="text.secondary">
                  {doc.original_name} · {formatSize(doc.size_bytes)}
                  {doc.chunk_count != null ? ` · ${doc.chunks_done}/${doc.chunk_count} chunks` : ""}
                </Typography>
              </Box>
              <Box sx={{ display: "flex", alignItems: "center", gap: 0.5, flexShrink: 0 }} className="document-actions">
                <Chip size="small" label={doc.status} color={STATUS_COLOR[doc.status as keyof typeof STATUS_COLOR] ?? "default"} className="document-status" />
                <Tooltip title="Download">
                  <IconButton size="small" aria-label={`Download ${doc.original_name}`} onClick={() => void alert.attempt(() => download(doc))}>
                    <DownloadIcon fontSize="small" />
                  </IconButton>
                </Tooltip>
                <Tooltip title="Re-index">
                  <IconButton size="small" aria-label={`Re-index ${doc.original_name}`} onClick={() => void alert.attempt(() => reindex(doc.id))}>
                    <RefreshIcon fontSize="small" />
                  </IconButton>
                </Tooltip>
                <Tooltip title="Delete">
                  <IconButton size="small" aria-label={`Delete ${doc.original_name}`} onClick={() => void deleteDocument(doc.id, doc.original_name)}>
                    <DeleteOutlinedIcon fontSize="small" />
                  </IconButton>
                </Tooltip>
              </Box>
            </Box>
            {inProgress(doc) && (
              <LinearProgress variant="determinate" value={Math.round((doc.progress ?? 0) * 100)} sx={{ mt: 1 }} aria-label={`Progress of ${doc.original_name}`} />
            )}
            {doc.status === "error" && doc.error && (
              <Alert severity="error" sx={{ mt: 1 }}>
                {doc.error}
              </Alert>
            )}
          </Paper>
        ))}
      </Box>
    </>
  );
}
