// The audit log: newest first, filtered by action and date, paged, and exported as CSV.
import DownloadIcon from "@mui/icons-material/Download";
import { Alert, Box, Button, MenuItem, Paper, Select, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, TextField, Typography } from "@mui/material";
import { useState } from "react";
import type { AuditEventOut, AuditQuery } from "../../api/types";
import { exportAudit } from "../../api/usage";
import { useApiClient } from "../../api/context";
import { useAudit } from "../../queries/usage";
import { useErrorAlert } from "../useErrorAlert";

const PAGE = 50;

function describe(event: AuditEventOut): string {
  const target = event.target_type ? `${event.target_type}${event.target_id !== null ? ` ${event.target_id}` : ""}` : "";
  const details = Object.entries(event.details)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
  return [target, details].filter(Boolean).join(" — ");
}

export function AuditPanel() {
  const client = useApiClient();
  const [action, setAction] = useState("");
  const [since, setSince] = useState("");
  const [offset, setOffset] = useState(0);
  const filters: AuditQuery = { ...(action ? { action } : {}), ...(since ? { since: `${since}T00:00:00Z` } : {}) };
  const log = useAudit({ ...filters, limit: PAGE, offset });
  const alert = useErrorAlert(log);
  const items = log.data?.items ?? [];
  return (
    <Box sx={{ display: "flex", flexDirection: "column", gap: 2 }}>
      <Box sx={{ display: "flex", alignItems: "center", justifyContent: "space-between", flexWrap: "wrap", gap: 1 }}>
        <Typography variant="h6">Audit log</Typography>
        <Box sx={{ display: "flex", gap: 1, flexWrap: "wrap" }}>
          <Select
            size="small"
            displayEmpty
            value={action}
            onChange={(e) => {
              setAction(e.target.value);
              setOffset(0);
            }}
            inputProps={{ "aria-label": "Action" }}
            sx={{ minWidth: 200 }}
          >
            <MenuItem value="">Every action</MenuItem>
            {log.data?.actions.map((name) => (
              <MenuItem key={name} value={name}>
                {name}
              </MenuItem>
            ))}
          </Select>
          <TextField
            size="small"
            type="date"
            label="Since"
            value={since}
            onChange={(e) => {
              setSince(e.target.value);
              setOffset(0);
            }}
            slotProps={{ inputLabel: { shrink: true } }}
          />
          <Button variant="outlined" startIcon={<DownloadIcon />} onClick={() => void alert.attempt(() => exportAudit(client, filters))}>
            Export CSV
          </Button>
        </Box>
      </Box>
      {alert.message && (
        <Alert severity="error" onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      <TableContainer component={Paper}>
        <Table size="small" aria-label="Audit events">
          <TableHead>
            <TableRow>
              <TableCell>When</TableCell>
              <TableCell>Who</TableCell>
              <TableCell>Action</TableCell>
              <TableCell>What</TableCell>
              <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>Address</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {items.length === 0 && (
              <TableRow>
                <TableCell colSpan={5} sx={{ color: "text.secondary" }}>
                  No events.
                </TableCell>
              </TableRow>
            )}
            {items.map((event) => (
              <TableRow key={event.id} data-action={event.action}>
                <TableCell>{new Date(event.created_at).toLocaleString()}</TableCell>
                <TableCell>{event.actor_name ?? "—"}</TableCell>
                <TableCell>{event.action}</TableCell>
                <TableCell>{describe(event)}</TableCell>
                <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>{event.ip ?? ""}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </TableContainer>
      <Box sx={{ display: "flex", gap: 1, justifyContent: "flex-end" }}>
        <Button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Newer
        </Button>
        <Button disabled={items.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
          Older
        </Button>
      </Box>
    </Box>
  );
}
