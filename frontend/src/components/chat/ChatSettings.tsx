import TuneIcon from "@mui/icons-material/Tune";
import {
  Box,
  FormControl,
  FormControlLabel,
  IconButton,
  InputLabel,
  MenuItem,
  Popover,
  Select,
  Switch,
  TextField,
  Tooltip,
  Typography,
} from "@mui/material";
import { useState, type ReactNode } from "react";
import type { RegenerateBody, SessionOut, SessionUpdate, TemplateOut } from "../../api/types";
import { useModels } from "../../queries/batches";

const MAX_TOKENS_KEY = "qc.maxTokens";

function storedMaxTokens(): number | undefined {
  const value = Number(localStorage.getItem(MAX_TOKENS_KEY));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The reply length chosen here, for a new reply's request; nothing when it is the server's default. */
export function replyOptions(): Pick<RegenerateBody, "max_tokens"> {
  const maxTokens = storedMaxTokens();
  return maxTokens ? { max_tokens: maxTokens } : {};
}

/** A chat setting picked from a list; the empty choice (``fallback``) is null: the server's default. */
function SettingSelect({ label, value, onChange, fallback, children }: {
  label: string;
  value: string | null;
  onChange: (value: string | null) => void;
  fallback: string;
  children: ReactNode;
}) {
  const id = `${label.toLowerCase()}-label`;
  return (
    <FormControl size="small" sx={{ minWidth: 160 }}>
      <InputLabel id={id}>{label}</InputLabel>
      <Select labelId={id} label={label} value={value ?? ""} onChange={(e) => onChange(String(e.target.value) === "" ? null : String(e.target.value))}>
        <MenuItem value="">
          <em>{fallback}</em>
        </MenuItem>
        {children}
      </Select>
    </FormControl>
  );
}

interface Props {
  /** the chat's settings (a field the server does not have is absent) */
  settings: Pick<SessionOut, "use_knowledge_base" | "template_id" | "model"> | null;
  templates: TemplateOut[] | null;
  onChange: (patch: SessionUpdate) => void;
  /** only the settings button, every setting in its popover (a phone's one-row composer) */
  compact?: boolean;
}

/** Per-chat knowledge-base switch, template and model pickers (when the server has them; the
 * model picker when it serves more than one), reply length; on a phone (``compact``) all of
 * them are in the settings popover. */
export function ChatSettings({ settings: session, templates, onChange, compact = false }: Props) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [maxTokens, setMaxTokens] = useState(() => String(storedMaxTokens() ?? ""));
  const hasKnowledgeBase = session !== null && session.use_knowledge_base !== undefined;
  const hasTemplates = session !== null && session.template_id !== undefined && templates !== null && templates.length > 0;
  const models = useModels().data;
  const chosen = session?.model ?? null;
  const hasModels = session !== null && session.model !== undefined && models !== undefined && (models.items.length > 1 || chosen !== null);
  const model = hasModels && (
    <SettingSelect label="Model" value={chosen} onChange={(value) => onChange({ model: value })} fallback={`Default (${models.default})`}>
      {models.items.map((name) => (
        <MenuItem key={name} value={name}>
          {name}
        </MenuItem>
      ))}
      {chosen !== null && !models.items.includes(chosen) && <MenuItem value={chosen}>{chosen} (no worker serves it now)</MenuItem>}
    </SettingSelect>
  );
  const knowledgeBase = hasKnowledgeBase && (
    <FormControlLabel
      sx={{ ml: 0 }}
      control={
        <Switch
          size="small"
          checked={Boolean(session.use_knowledge_base)}
          onChange={(e) => onChange({ use_knowledge_base: e.target.checked })}
        />
      }
      label={<Typography variant="body2">Knowledge base</Typography>}
    />
  );
  const template = hasTemplates && (
    <SettingSelect
      label="Template"
      value={session.template_id === null ? null : String(session.template_id)}
      onChange={(value) => onChange({ template_id: value === null ? null : Number(value) })}
      fallback="Default"
    >
      {templates
        .filter((t) => t.active || t.id === session.template_id)
        .map((t) => (
          <MenuItem key={t.id} value={String(t.id)}>
            {t.name}
            {t.is_default ? " (default)" : ""}
          </MenuItem>
        ))}
    </SettingSelect>
  );
  const controls = (
    <>
      <Tooltip title="Reply settings">
        <IconButton size="small" aria-label="Reply settings" onClick={(e) => setAnchor(e.currentTarget)}>
          <TuneIcon fontSize="small" />
        </IconButton>
      </Tooltip>
      <Popover open={anchor !== null} anchorEl={anchor} onClose={() => setAnchor(null)} anchorOrigin={{ vertical: "top", horizontal: "right" }} transformOrigin={{ vertical: "bottom", horizontal: "right" }}>
        <Box sx={{ p: 2, width: 260, display: "flex", flexDirection: "column", gap: 2 }}>
          {compact && knowledgeBase}
          {compact && template}
          {compact && model}
          <TextField
            label="Max reply tokens"
            type="number"
            size="small"
            fullWidth
            value={maxTokens}
            helperText="Empty: the server's default"
            onChange={(e) => {
              setMaxTokens(e.target.value);
              if (Number(e.target.value) > 0) localStorage.setItem(MAX_TOKENS_KEY, String(Number(e.target.value)));
              else localStorage.removeItem(MAX_TOKENS_KEY);
            }}
          />
        </Box>
      </Popover>
    </>
  );
  if (compact) return controls; // a phone: everything in the popover, beside the message box
  return (
    <Box sx={{ display: "flex", alignItems: "center", gap: 1, flexWrap: "wrap", minHeight: 40 }}>
      {knowledgeBase}
      {template}
      {model}
      <Box sx={{ flex: 1 }} />
      {controls}
    </Box>
  );
}
