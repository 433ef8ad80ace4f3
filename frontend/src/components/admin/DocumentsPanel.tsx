import CloudUploadOutlinedIcon from "@mui/icons-material/CloudUploadOutlined";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import DownloadIcon from "@mui/icons-material/Download";
import RefreshIcon from "@mui/icons-material/Refresh";
import { Alert, Box, Chip, IconButton, LinearProgress, Paper, Tooltip, Typography } from "@mui/material";
import { useRef, useState, type DragEvent } from "react";
import { inProgress, useDocumentCalls, useDocuments } from "../../queries/documents";
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
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const documents = list.data?.items ?? [];

  const upload = (files: File[]) => {
    if (files.length > 0) void alert.attempt(() => uploadFiles(files));
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    upload([...e.dataTransfer.files]);
  };

  return (
    <>
      <Typography variant="h6" gutterBottom>
        Knowledge-base documents
      </Typography>
      <Paper
        variant="outlined"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        onClick={() => input.current?.click()}
        role="button"
        aria-label="Upload documents"
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
        <Typography>{uploading ? "Uploading…" : "Drop files here, or click to choose (several at once)"}</Typography>
        <Typography variant="caption" color="text.secondary">
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
                <IconButton size="small" aria-label={`Delete ${doc.original_name}`} onClick={() => void alert.attempt(() => remove(doc.id))}>
                  <DeleteOutlinedIcon fontSize="small" />
                </IconButton>
              </Tooltip>
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
