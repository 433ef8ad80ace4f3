// Batch jobs: upload a JSONL file with the template, model and sampling its lines leave out,
// watch each batch's progress, cancel it, download its results.
import {
  Alert,
  Box,
  Button,
  Chip,
  LinearProgress,
  MenuItem,
  Paper,
  Stack,
  TextField,
  Typography,
} from "@mui/material";
import { useState, type FormEvent } from "react";
import { batchResults, type BatchOptions } from "../../api/batches";
import { useApiClient } from "../../api/context";
import { saveBlob } from "../../download";
import { useBatchCalls, useBatches, useModels } from "../../queries/batches";
import { useTemplates } from "../../queries/templates";
import { useErrorAlert } from "../useErrorAlert";

const NONE = "";
const number = (text: string) => (text.trim() === "" ? undefined : Number(text));

export function BatchesPanel() {
  const client = useApiClient();
  const list = useBatches();
  const models = useModels().data?.items ?? [];
  const templates = (useTemplates().data?.items ?? []).filter((t) => t.active);
  const alert = useErrorAlert(list);
  const { submit, cancel } = useBatchCalls();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [template, setTemplate] = useState(NONE);
  const [model, setModel] = useState(NONE);
  const [maxTokens, setMaxTokens] = useState("");
  const [temperature, setTemperature] = useState("");
  const [topP, setTopP] = useState("");
  const [seed, setSeed] = useState("");
  const [inputKey, setInputKey] = useState(0); // a new file input after each upload

  const send = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const options: BatchOptions = {
      name: name.trim() || file.name,
      ...(template ? { template } : {}),
      ...(model ? { model } : {}),
      ...(number(maxTokens) !== undefined ? { max_tokens: number(maxTokens) } : {}),
      ...(number(temperature) !== undefined ? { temperature: number(temperature) } : {}),
      ...(number(topP) !== undefined ? { top_p: number(topP) } : {}),
      ...(number(seed) !== undefined ? { seed: number(seed) } : {}),
    };
    const sent = await alert.attempt(() => submit({ file, options }));
    if (sent) {
      setFile(null);
      setName("");
      setInputKey((k) => k + 1);
    }
  };

  const download = (id: number, batchName: string) =>
    void alert.attempt(async () => {
      saveBlob(await batchResults(client, id), `${batchName.replace(/[^\w.-]+/g, "_")}-results.jsonl`);
    });

  return (
    <>
      <Typography variant="h6" gutterBottom>
        Batch jobs
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        One request per line: <code>{'{"custom_id": "q1", "prompt": "..."}'}</code> or <code>messages</code>. The choices
        below apply to every line that does not set its own.
      </Typography>
      {alert.message && (
        <Alert severity="error" sx={{ mb: 2 }} onClose={alert.clear} role="alert">
          {alert.message}
        </Alert>
      )}
      <Paper component="form" onSubmit={send} sx={{ p: 2, mb: 3 }}>
        <Stack direction={{ xs: "column", md: "row" }} spacing={1} sx={{ mb: 1 }}>
          <Button variant="outlined" component="label">
            {file ? file.name : "Choose JSONL file"}
            <input
              key={inputKey}
              hidden
              type="file"
              accept=".jsonl,.ndjson,.txt,application/jsonl"
              aria-label="JSONL file"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </Button>
          <TextField size="small" label="Batch name" value={name} onChange={(e) => setName(e.target.value)} slotProps={{ htmlInput: { maxLength: 300 } }} />
          <TextField select size="small" label="Template" value={template} onChange={(e) => setTemplate(e.target.value)} sx={{ minWidth: 160 }}>
            <MenuItem value={NONE}>as in the file</MenuItem>
            {templates.map((t) => (
              <MenuItem key={t.id} value={t.name}>
                {t.name}
              </MenuItem>
            ))}
          </TextField>
          <TextField select size="small" label="Model" value={model} onChange={(e) => setModel(e.target.value)} sx={{ minWidth: 200 }}>
            <MenuItem value={NONE}>default</MenuItem>
            {models.map((m) => (
              <MenuItem key={m} value={m}>
                {m}
              </MenuItem>
            ))}
          </TextField>
        </Stack>
        <Stack direction={{ xs: "column", md: "row" }} spacing={1}>
          <TextField size="small" type="number" label="Max tokens" value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} slotProps={{ htmlInput: { min: 1 } }} />
          <TextField size="small" type="number" label="Temperature" value={temperature} onChange={(e) => setTemperature(e.target.value)} slotProps={{ htmlInput: { min: 0, step: 0.1 } }} />
          <TextField size="small" type="number" label="Top p" value={topP} onChange={(e) => setTopP(e.target.value)} slotProps={{ htmlInput: { min: 0, max: 1, step: 0.05 } }} />
          <TextField size="small" type="number" label="Seed" value={seed} onChange={(e) => setSeed(e.target.value)} slotProps={{ htmlInput: { min: 0 } }} />
          <Button type="submit" variant="contained" disabled={!file}>
            Submit batch
          </Button>
        </Stack>
      </Paper>
      <Stack spacing={1}>
        {list.data?.items.length === 0 && <Typography color="text.secondary">No batches yet.</Typography>}
        {list.data?.items.map((b) => {
          const open = b.status === "queued" || b.status === "running";
          const done = b.counts.done ?? 0;
          const failed = b.counts.failed ?? 0;
          const cancelled = b.counts.cancelled ?? 0;
          const finished = done + failed + cancelled;
          return (
            <Paper key={b.id} sx={{ p: 2 }} data-batch-name={b.name} data-status={b.status}>
              <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
                <Typography sx={{ fontWeight: 600 }}>{b.name}</Typography>
                <Chip size="small" label={b.status} data-testid="batch-status" />
                <Typography variant="body2" color="text.secondary" data-testid="batch-counts">
                  {finished} / {b.total} finished · {done} done · {failed} failed · {cancelled} cancelled
                </Typography>
                <Box sx={{ ml: "auto", display: "flex", gap: 1 }}>
                  {open && (
                    <Button size="small" color="error" onClick={() => void alert.attempt(() => cancel(b.id))}>
                      Cancel
                    </Button>
                  )}
                  <Button size="small" disabled={done + failed === 0} onClick={() => download(b.id, b.name)}>
                    Download results
                  </Button>
                </Box>
              </Box>
              <LinearProgress variant="determinate" value={Math.round(b.progress * 100)} sx={{ mt: 1 }} aria-label={`Progress of ${b.name}`} />
              <Typography variant="caption" color="text.secondary">
                {(b.usage.prompt_tokens ?? 0) + (b.usage.completion_tokens ?? 0)} tokens
                {b.elapsed_s != null ? ` · ${b.elapsed_s.toFixed(1)} s` : ""}
              </Typography>
            </Paper>
          );
        })}
      </Stack>
    </>
  );
}
