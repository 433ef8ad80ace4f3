import AddIcon from "@mui/icons-material/Add";
import ArrowDownwardIcon from "@mui/icons-material/ArrowDownward";
import ArrowUpwardIcon from "@mui/icons-material/ArrowUpward";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import StarIcon from "@mui/icons-material/Star";
import {
  Alert,
  Box,
  Button,
  Chip,
  FormControlLabel,
  IconButton,
  List,
  ListItemButton,
  ListItemText,
  Paper,
  Switch,
  TextField,
  Typography,
} from "@mui/material";
import { useState } from "react";
import { fieldErrors } from "../../api/errors";
import type { TemplateDraft } from "../../api/templates";
import type { ExampleIn, TemplateOut } from "../../api/types";
import { useTemplateCalls, useTemplates } from "../../queries/templates";
import { useErrorAlert } from "../useErrorAlert";
import { useConfirm } from "../ConfirmDialog";

const blank: TemplateDraft = { id: null, name: "", system_prompt: "", active: true, examples: [] };

function toDraft(t: TemplateOut): TemplateDraft {
  const examples = [...t.examples].sort((a, b) => a.position - b.position);
  return {
    id: t.id,
    name: t.name,
    system_prompt: t.system_prompt,
    active: t.active,
    examples: examples.map((e) => ({ user_input: e.user_input, assistant_output: e.assistant_output })),
  };
}

/** What the form can tell before asking the server: a name and a system prompt are needed. */
export function draftProblems(draft: TemplateDraft): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!draft.name.trim()) problems.name = "Give the template a name";
  if (!draft.system_prompt.trim()) problems.system_prompt = "A template needs a system prompt";
  return problems;
}

export function TemplatesPanel() {
  const list = useTemplates();
  const alert = useErrorAlert(list);
  const calls = useTemplateCalls();
  const [confirmDialog, confirm] = useConfirm();
  const [draft, setDraft] = useState<TemplateDraft>(blank);
  const [saved, setSaved] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({}); // each field's own problem
  const templates = list.data?.items ?? [];

  const run = (action: () => Promise<unknown>) => {
    setSaved(false);
    return alert.attempt(action);
  };

  const save = async () => {
    const missing = draftProblems(draft);
    setFields(missing);
    if (Object.keys(missing).length) return;
    let refusal: unknown = null;
    await run(async () => {
      try {
        setDraft(toDraft(await calls.save(draft)));
        setSaved(true);
      } catch (e) {
        refusal = e;
        throw e;
      }
    });
    if (refusal) setFields(fieldErrors(refusal));
  };

  const setExample = (index: number, change: Partial<ExampleIn>) =>
    setDraft((d) => ({ ...d, examples: d.examples.map((e, i) => (i === index ? { ...e, ...change } : e)) }));
  const move = (index: number, by: number) =>
    setDraft((d) => {
      const examples = [...d.examples];
      const [item] = examples.splice(index, 1);
      examples.splice(index + by, 0, item);
      return { ...d, examples };
    });

  const editing = draft.id; // null while the template is new
  const current = templates.find((t) => t.id === editing);
  return (
    <Box sx={{ display: "flex", gap: 2, flexDirection: { xs: "column", md: "row" } }}>
      {confirmDialog}
      <Paper sx={{ width: { md: 280 }, flexShrink: 0, alignSelf: "flex-start" }}>
        <Box sx={{ p: 1.5, display: "flex", alignItems: "center" }}>
          <Typography variant="h6" sx={{ flex: 1 }}>
            Templates
          </Typography>
          <Button size="small" startIcon={<AddIcon />} onClick={() => { setDraft(blank); setFields({}); }}>
            New
          </Button>
        </Box>
        <List dense aria-label="Templates">
          {templates.map((t) => (
            <ListItemButton key={t.id} selected={t.id === draft.id} onClick={() => { setDraft(toDraft(t)); setFields({}); }}>
              <ListItemText primary={t.name} secondary={`${t.examples.length} examples${t.active ? "" : " · inactive"}`} />
              {t.is_default && <StarIcon fontSize="small" color="warning" aria-label="default" />}
            </ListItemButton>
          ))}
          {templates.length === 0 && (
            <Typography variant="body2" color="text.secondary" sx={{ px: 2, pb: 1 }}>
              No templates yet.
            </Typography>
          )}
        </List>
      </Paper>
      <Paper sx={{ p: 2, flex: 1, display: "flex", flexDirection: "column", gap: 2, minWidth: 0 }}>
        <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap" }}>
          <Typography variant="h6" sx={{ flex: 1 }}>
            {editing === null ? "New template" : "Edit template"}
          </Typography>
          {current?.is_default ? (
            <Chip icon={<StarIcon />} label="Default" color="warning" variant="outlined" />
          ) : (
            editing !== null && (
              <Button size="small" onClick={() => run(() => calls.setDefault(editing))}>
                Set as default
              </Button>
            )
          )}
          {editing !== null && (
            <Button
              size="small"
              color="error"
              onClick={async () => {
                const sure = await confirm({
                  title: `Delete the template ${draft.name}?`,
                  text: "Chats that use it go back to the default template. This cannot be undone.",
                  action: "Delete",
                });
                if (!sure) return;
                await run(async () => {
                  await calls.remove(editing);
                  setDraft(blank);
                });
              }}
            >
              Delete
            </Button>
          )}
        </Box>
        {alert.message && <Alert severity="error" onClose={alert.clear}>{alert.message}</Alert>}
        {saved && <Alert severity="success" onClose={() => setSaved(false)}>Saved.</Alert>}
        <TextField
          label="Name"
          value={draft.name}
          onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          error={Boolean(fields.name)}
          helperText={fields.name}
        />
        <TextField
          label="System prompt"
          multiline
          minRows={3}
          value={draft.system_prompt}
          onChange={(e) => setDraft({ ...draft, system_prompt: e.target.value })}
          error={Boolean(fields.system_prompt)}
          helperText={fields.system_prompt}
        />
        <FormControlLabel control={<Switch checked={draft.active} onChange={(e) => setDraft({ ...draft, active: e.target.checked })} />} label="Active (offered in chats)" />
        <Typography variant="subtitle1">Few-shot examples</Typography>
        {draft.examples.map((example, index) => (
          <Paper key={index} variant="outlined" sx={{ p: 1.5, display: "flex", gap: 1 }} data-example={index}>
            <Box sx={{ flex: 1, display: "flex", flexDirection: "column", gap: 1, minWidth: 0 }}>
              <TextField size="small" label={`User ${index + 1}`} multiline value={example.user_input} onChange={(e) => setExample(index, { user_input: e.target.value })} />
              <TextField size="small" label={`Assistant ${index + 1}`} multiline value={example.assistant_output} onChange={(e) => setExample(index, { assistant_output: e.target.value })} />
            </Box>
            <Box sx={{ display: "flex", flexDirection: "column" }}>
              <IconButton size="small" aria-label={`Move example ${index + 1} up`} disabled={index === 0} onClick={() => move(index, -1)}>
                <ArrowUpwardIcon fontSize="small" />
              </IconButton>
              <IconButton size="small" aria-label={`Move example ${index + 1} down`} disabled={index === draft.examples.length - 1} onClick={() => move(index, 1)}>
                <ArrowDownwardIcon fontSize="small" />
              </IconButton>
              <IconButton size="small" aria-label={`Remove example ${index + 1}`} onClick={() => setDraft({ ...draft, examples: draft.examples.filter((_, i) => i !== index) })}>
                <DeleteOutlinedIcon fontSize="small" />
              </IconButton>
            </Box>
          </Paper>
        ))}
        <Box sx={{ display: "flex", gap: 1 }}>
          <Button startIcon={<AddIcon />} onClick={() => setDraft({ ...draft, examples: [...draft.examples, { user_input: "", assistant_output: "" }] })}>
            Add example
          </Button>
          <Box sx={{ flex: 1 }} />
          <Button variant="contained" onClick={() => void save()} disabled={!draft.name.trim()}>
            Save
          </Button>
        </Box>
      </Paper>
    </Box>
  );
}
