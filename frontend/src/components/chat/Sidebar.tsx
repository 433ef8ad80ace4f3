import AddIcon from "@mui/icons-material/Add";
import UploadFileOutlinedIcon from "@mui/icons-material/UploadFileOutlined";
import MoreVertIcon from "@mui/icons-material/MoreVert";
import SearchIcon from "@mui/icons-material/Search";
import {
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  IconButton,
  InputAdornment,
  List,
  ListItem,
  ListItemButton,
  ListItemText,
  Menu,
  MenuItem,
  TextField,
  Typography,
} from "@mui/material";
import { useMemo, useState } from "react";
import type { SessionOut } from "../../api/types";

const EXPORTS = [
  ["markdown", "Export as Markdown"],
  ["json", "Export as JSON"],
] as const;

interface Props {
  sessions: SessionOut[];
  activeId: number | null;
  onSelect: (id: number) => void;
  onNew: () => void;
  onRename: (id: number, title: string) => Promise<void>;
  onDelete: (id: number) => Promise<void>;
  /** Saves the chat as a file (absent: no export offered). */
  onExport?: (session: SessionOut, format: "markdown" | "json") => void;
  /** Imports chats from a JSON file (absent: no import offered). */
  onImport?: (file: File) => void;
}

export function Sidebar({ sessions, activeId, onSelect, onNew, onRename, onDelete, onExport, onImport }: Props) {
  const [query, setQuery] = useState("");
  const [menu, setMenu] = useState<{ anchor: HTMLElement; session: SessionOut } | null>(null);
  const [renaming, setRenaming] = useState<SessionOut | null>(null);
  const [title, setTitle] = useState("");
  const [deleting, setDeleting] = useState<SessionOut | null>(null);
  const [error, setError] = useState<string | null>(null);

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return needle ? sessions.filter((s) => s.title.toLowerCase().includes(needle)) : sessions;
  }, [sessions, query]);

  const submitRename = async () => {
    if (!renaming) return;
    try {
      await onRename(renaming.id, title);
      setRenaming(null);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Box component="nav" aria-label="Chats" sx={{ display: "flex", flexDirection: "column", height: "100%", minHeight: 0 }}>
      <Box sx={{ p: 1.5, display: "flex", flexDirection: "column", gap: 1 }}>
        <Button variant="contained" startIcon={<AddIcon />} onClick={onNew} fullWidth>
          New chat
        </Button>
        {onImport && (
          <Button component="label" size="small" startIcon={<UploadFileOutlinedIcon />} sx={{ alignSelf: "flex-start" }}>
            Import chats
            <input
              type="file"
              accept=".json,application/json"
              hidden
              data-testid="import-input"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) onImport(file);
                e.target.value = "";
              }}
            />
          </Button>
        )}
        <TextField
          size="small"
          placeholder="Search chats"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          slotProps={{
            htmlInput: { "aria-label": "Search chats" },
            input: {
              startAdornment: (
                <InputAdornment position="start">
                  <SearchIcon fontSize="small" />
                </InputAdornment>
              ),
            },
          }}
        />
      </Box>
      <List dense sx={{ overflowY: "auto", flex: 1, px: 1 }}>
        {shown.map((session) => (
          <ListItem
            key={session.id}
            disablePadding
            secondaryAction={
              <IconButton
                edge="end"
                size="small"
                aria-label={`Options for ${session.title}`}
                onClick={(e) => setMenu({ anchor: e.currentTarget, session })}
              >
                <MoreVertIcon fontSize="small" />
              </IconButton>
            }
          >
            <ListItemButton selected={session.id === activeId} onClick={() => onSelect(session.id)} sx={{ borderRadius: 1 }}>
              <ListItemText primary={session.title} slotProps={{ primary: { noWrap: true } }} />
            </ListItemButton>
          </ListItem>
        ))}
        {shown.length === 0 && (
          <Typography variant="body2" color="text.secondary" sx={{ p: 2 }}>
            {query ? "No chat matches." : "No chats yet."}
          </Typography>
        )}
      </List>
      <Menu anchorEl={menu?.anchor} open={menu !== null} onClose={() => setMenu(null)}>
        <MenuItem
          onClick={() => {
            setRenaming(menu!.session);
            setTitle(menu!.session.title);
            setMenu(null);
          }}
        >
          Rename
        </MenuItem>
        {onExport &&
          EXPORTS.map(([format, label]) => (
            <MenuItem
              key={format}
              onClick={() => {
                onExport(menu!.session, format);
                setMenu(null);
              }}
            >
              {label}
            </MenuItem>
          ))}
        <MenuItem
          onClick={() => {
            setDeleting(menu!.session);
            setMenu(null);
          }}
          sx={{ color: "error.main" }}
        >
          Delete
        </MenuItem>
      </Menu>
      <Dialog open={renaming !== null} onClose={() => setRenaming(null)} fullWidth maxWidth="xs">
        <DialogTitle>Rename chat</DialogTitle>
        <DialogContent>
          <TextField
            autoFocus
            fullWidth
            margin="dense"
            label="Title"
            value={title}
            error={error !== null}
            helperText={error}
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && void submitRename()}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setRenaming(null)}>Cancel</Button>
          <Button variant="contained" onClick={() => void submitRename()}>
            Save
          </Button>
        </DialogActions>
      </Dialog>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)}>
        <DialogTitle>Delete “{deleting?.title}”?</DialogTitle>
        <DialogContent>The chat and all its messages are deleted.</DialogContent>
        <DialogActions>
          <Button onClick={() => setDeleting(null)}>Cancel</Button>
          <Button
            color="error"
            variant="contained"
            onClick={async () => {
              const target = deleting;
              setDeleting(null);
              if (target) await onDelete(target.id);
            }}
          >
            Delete
          </Button>
        </DialogActions>
      </Dialog>
    </Box>
  );
}
