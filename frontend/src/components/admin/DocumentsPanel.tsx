import CloudUploadOutlinedIcon from "@mui/icons-material/CloudUploadOutlined";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import DownloadIcon from "@mui/icons-material/Download";
import RefreshIcon from "@mui/icons-material/Refresh";
import { Alert, Box, Chip, IconButton, LinearProgress, Paper, Tooltip, Typography } from "@mui/material";
import { useCallback, useEffect, useRef, useState, type DragEvent } from "react";
import type { DocumentOut } from "../../api/types";
import { useAuth } from "../../auth";
import { useStreaming } from "../../streaming";

const STATUS_COLOR = {
  queued: "default",
  extracting: "info",
  embedding: "info",
  ready: "success",
  error: "error",
} as const;
const POLL_MS = 3000;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const inProgress = (d: DocumentOut) => d.status !== "ready" && d.status !== "error";

export function DocumentsPanel() {
  const { client } = useAuth();
  const { socket } = useStreaming();
  const [documents, setDocuments] = useState<DocumentOut[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [uploading, setUploading] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const merge = useCallback((changed: DocumentOut[]) => {
    setDocuments((list) => {
      const byId = new Map(list.map((d) => [d.id, d]));
      changed.forEach((d) => byId.set(d.id, d));
      return [...byId.values()].sort((a, b) => b.id - a.id);
    });
  }, []);

  const load = useCallback(async () => {
    try {
      const body = await client.get<{ items: DocumentOut[] }>("/api/documents");
      setDocuments([...body.items].sort((a, b) => b.id - a.id));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client]);

  useEffect(() => {
    void load();
    socket.followDocuments();
    return socket.onFrame((frame) => {
      if (frame.type === "document" && frame.document) merge([frame.document as DocumentOut]);
    });
  }, [load, socket, merge]);

  // progress events are the live path; a slow poll covers a socket that is reconnecting
  const busy = documents.some(inProgress);
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [busy, load]);

  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    setError(null);
    setUploading(true);
    const form = new FormData();
    files.forEach((file) => form.append("files", file));
    try {
      const body = await client.post<{ items: DocumentOut[] }>("/api/documents", form);
      merge(body.items);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setUploading(false);
    }
  };

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const download = async (doc: DocumentOut) => {
    try {
      const token = await client.accessToken();
      const response = await fetch(`/api/documents/${doc.id}/file`, { headers: { Authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(`Download failed (HTTP ${response.status})`);
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: doc.original_name });
      link.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void upload([...e.dataTransfer.files]);
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
            void upload([...(e.target.files ?? [])]);
            e.target.value = "";
          }}
        />
      </Paper>
      {error && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      <Box sx={{ display: "flex", flexDirection: "column", gap: 1 }}>
        {documents.length === 0 && <Typography color="text.secondary">No documents yet.</Typography>}
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
                <IconButton size="small" aria-label={`Download ${doc.original_name}`} onClick={() => void download(doc)}>
                  <DownloadIcon fontSize="small" />
                </IconButton>
              </Tooltip>
              <Tooltip title="Re-index">
                <IconButton size="small" aria-label={`Re-index ${doc.original_name}`} onClick={() => void act(() => client.post(`/api/documents/${doc.id}/reindex`))}>
                  <RefreshIcon fontSize="small" />
                </IconButton>
              </Tooltip>
              <Tooltip title="Delete">
                <IconButton size="small" aria-label={`Delete ${doc.original_name}`} onClick={() => void act(() => client.delete(`/api/documents/${doc.id}`))}>
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
