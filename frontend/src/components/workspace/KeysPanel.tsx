// API keys: create one (its secret shown once, with a copy button), list them with their last
// use, revoke one.
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import {
  Alert,
  Box,
  Button,
  Chip,
  IconButton,
  Paper,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableRow,
  TextField,
  Tooltip,
  Typography,
} from "@mui/material";
import { useState, type FormEvent } from "react";
import { useKeyCalls, useKeys } from "../../queries/keys";
import { useErrorAlert } from "../useErrorAlert";

const when = (moment: string | null | undefined) => (moment ? new Date(moment).toLocaleString() : "never");

export function KeysPanel() {
  const list = useKeys();
  const alert = useErrorAlert(list);
  const { create, revoke } = useKeyCalls();
  const [name, setName] = useState("");
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const keys = list.data?.items ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await alert.attempt(async () => {
      const created = await create(name.trim());
      setShown({ name: created.name, key: created.key });
      setCopied(false);
      setName("");
    });
  };

  const copy = async () => {
    if (!shown) return;
    await navigator.clipboard?.writeText(shown.key).catch(() => undefined);
    setCopied(true);
  };

  return (
    <>
      <Typography variant="h6" gutterBottom>
        API keys
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        A key signs requests to the OpenAI-compatible API (<code>/v1</code>) and to batches as you: send it as{" "}
        <code>Authorization: Bearer qc-…</code>.
      </Typography>
      {alert.message && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      <Box component="form" onSubmit={submit} sx={{ display: "flex", gap: 1, mb: 2, flexWrap: "wrap" }}>
        <TextField size="small" label="Key name" value={name} onChange={(e) => setName(e.target.value)} required slotProps={{ htmlInput: { maxLength: 100 } }} />
        <Button type="submit" variant="contained" disabled={!name.trim()}>
          Create key
        </Button>
      </Box>
      {shown && (
        <Alert severity="success" sx={{ mb: 2 }} onClose={() => setShown(null)} data-testid="new-key">
          <Typography variant="body2" sx={{ mb: 1 }}>
            Key “{shown.name}” created. Copy it now: it will not be shown again.
          </Typography>
          <Box sx={{ display: "flex", alignItems: "center", gap: 1 }}>
            <Box component="code" sx={{ wordBreak: "break-all", fontSize: 13 }} aria-label="New API key">
              {shown.key}
            </Box>
            <Tooltip title={copied ? "Copied" : "Copy"}>
              <IconButton size="small" aria-label="Copy key" onClick={copy}>
                <ContentCopyIcon fontSize="small" />
              </IconButton>
            </Tooltip>
          </Box>
        </Alert>
      )}
      <TableContainer component={Paper}>
        <Table size="small" aria-label="API keys">
          <TableHead>
            <TableRow>
              <TableCell>Name</TableCell>
              <TableCell>Key</TableCell>
              <TableCell sx={{ display: { xs: "none", sm: "table-cell" } }}>Created</TableCell>
              <TableCell>Last used</TableCell>
              <TableCell align="right">Status</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {keys.length === 0 && (
              <TableRow>
                <TableCell colSpan={5}>No keys yet.</TableCell>
              </TableRow>
            )}
            {keys.map((k) => (
              <TableRow key={k.id} data-key-name={k.name}>
                <TableCell>{k.name}</TableCell>
                <TableCell>
                  <code>{k.prefix}…</code>
                </TableCell>
                <TableCell sx={{ display: { xs: "none", sm: "table-cell" } }}>{when(k.created_at)}</TableCell>
                <TableCell data-testid="last-used">{when(k.last_used_at)}</TableCell>
                <TableCell align="right">
                  {k.revoked_at ? (
                    <Chip size="small" label="Revoked" />
                  ) : (
                    <Button size="small" color="error" aria-label={`Revoke ${k.name}`} onClick={() => void alert.attempt(() => revoke(k.id))}>
                      Revoke
                    </Button>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </TableContainer>
    </>
  );
}
