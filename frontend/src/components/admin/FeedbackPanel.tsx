// Feedback on replies: filters (rating, template, model, dates), the totals they keep, the rows
// page by page, and the same selection as CSV.
import {
  Alert,
  Box,
  Button,
  Chip,
  MenuItem,
  Paper,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from "@mui/material";
import { useState } from "react";
import { exportFeedback, type FeedbackQuery } from "../../api/feedback";
import { useApiClient } from "../../api/context";
import { saveBlob } from "../../download";
import { useFeedbackList } from "../../queries/feedback";
import { useTemplates } from "../../queries/templates";
import { useErrorAlert } from "../useErrorAlert";

const PAGE = 50;
const ANY = "";

/** A date field's day as the start of that day in UTC (``until`` is the day after, exclusive). */
const dayStart = (day: string, plusDays = 0) => {
  const moment = new Date(`${day}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + plusDays);
  return moment.toISOString();
};

export function FeedbackPanel() {
  const client = useApiClient();
  const [rating, setRating] = useState(ANY);
  const [template, setTemplate] = useState(ANY);
  const [model, setModel] = useState(ANY);
  const [from, setFrom] = useState(ANY);
  const [to, setTo] = useState(ANY);
  const [offset, setOffset] = useState(0);
  const filters: FeedbackQuery = {
    ...(rating ? { rating: rating as "up" | "down" } : {}),
    ...(template ? { template_id: Number(template) } : {}),
    ...(model ? { model } : {}),
    ...(from ? { since: dayStart(from) } : {}),
    ...(to ? { until: dayStart(to, 1) } : {}),
  };
  const list = useFeedbackList({ ...filters, limit: PAGE, offset });
  const templates = useTemplates().data?.items ?? [];
  const alert = useErrorAlert(list);
  const page = list.data;

  const change = (set: (value: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    setOffset(0);
  };

  const download = () =>
    void alert.attempt(async () => {
      saveBlob(await exportFeedback(client, filters), "feedback.csv");
    });

  return (
    <>
      <Typography variant="h6" gutterBottom>
        Feedback
      </Typography>
      {alert.message && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={alert.clear}>
          {alert.message}
        </Alert>
      )}
      <Box sx={{ display: "flex", gap: 1, flexWrap: "wrap", mb: 2, alignItems: "center" }}>
        <TextField select size="small" label="Rating" value={rating} onChange={change(setRating)} sx={{ minWidth: 120 }}>
          <MenuItem value={ANY}>any</MenuItem>
          <MenuItem value="up">👍 good</MenuItem>
          <MenuItem value="down">👎 bad</MenuItem>
        </TextField>
        <TextField select size="small" label="Template" value={template} onChange={change(setTemplate)} sx={{ minWidth: 160 }}>
          <MenuItem value={ANY}>any</MenuItem>
          {templates.map((t) => (
            <MenuItem key={t.id} value={String(t.id)}>
              {t.name}
            </MenuItem>
          ))}
        </TextField>
        <TextField select size="small" label="Model" value={model} onChange={change(setModel)} sx={{ minWidth: 160 }}>
          <MenuItem value={ANY}>any</MenuItem>
          {(page?.models ?? []).map((m) => (
            <MenuItem key={m} value={m}>
              {m}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" type="date" label="From" value={from} onChange={change(setFrom)} slotProps={{ inputLabel: { shrink: true } }} />
        <TextField size="small" type="date" label="To" value={to} onChange={change(setTo)} slotProps={{ inputLabel: { shrink: true } }} />
        <Button variant="outlined" onClick={download}>
          Export CSV
        </Button>
      </Box>
      {page && (
        <Box sx={{ display: "flex", gap: 1, mb: 1 }} data-testid="feedback-totals">
          <Chip label={`👍 ${page.up}`} />
          <Chip label={`👎 ${page.down}`} />
        </Box>
      )}
      <TableContainer component={Paper}>
        <Table size="small" aria-label="Feedback">
          <TableHead>
            <TableRow>
              <TableCell>When</TableCell>
              <TableCell>User</TableCell>
              <TableCell>Rating</TableCell>
              <TableCell>Comment</TableCell>
              <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>Template</TableCell>
              <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>Model</TableCell>
              <TableCell sx={{ display: { xs: "none", lg: "table-cell" } }}>Reply</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {page?.items.length === 0 && (
              <TableRow>
                <TableCell colSpan={7}>No feedback matches.</TableCell>
              </TableRow>
            )}
            {page?.items.map((row) => (
              <TableRow key={row.id} data-feedback-id={row.id}>
                <TableCell>{new Date(row.created_at).toLocaleString()}</TableCell>
                <TableCell>{row.username}</TableCell>
                <TableCell>{row.rating === "up" ? "👍" : "👎"}</TableCell>
                <TableCell sx={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>{row.comment ?? "—"}</TableCell>
                <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>{row.template_name ?? "—"}</TableCell>
                <TableCell sx={{ display: { xs: "none", md: "table-cell" } }}>{row.model_name ?? "—"}</TableCell>
                <TableCell sx={{ display: { xs: "none", lg: "table-cell" }, maxWidth: 360, overflowWrap: "anywhere" }}>{row.reply}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </TableContainer>
      <Box sx={{ display: "flex", gap: 1, justifyContent: "flex-end", mt: 1 }}>
        <Button size="small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Newer
        </Button>
        <Button size="small" disabled={(page?.items.length ?? 0) < PAGE} onClick={() => setOffset(offset + PAGE)}>
          Older
        </Button>
      </Box>
    </>
  );
}
