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
  ListSubheader,
  Menu,
  MenuItem,
  TextField,
  Typography,
} from "@mui/material";
import { type ReactNode, useEffect, useMemo, useState } from "react";
import type { Highlight, SearchHit, SessionOut } from "../../api/types";
import { groupChats } from "./chatGroups";

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
  /** Pins or unpins a chat (absent: no pinning offered). */
  onPin?: (session: SessionOut, pinned: boolean) => Promise<void>;
  /** Searches the messages of every chat (absent: the search box filters titles only). */
  onSearchMessages?: (query: string) => Promise<SearchHit[]>;
  /** Opens a found message in its chat. */
  onOpenMessage?: (hit: SearchHit) => void;
  /** Opens the chat's read-only links (absent: no sharing offered). */
  onShare?: (session: SessionOut) => void;
}

const SEARCH_DELAY_MS = 300; // typing pauses this long before the messages are searched
const MIN_SEARCH_CHARS = 2;

/** The snippet with its matched words marked (as text: nothing in it is markup). */
export function Highlighted({ text, highlights }: { text: string; highlights: Highlight[] }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const { start, end } of highlights) {
    if (start < at || end > text.length) continue;
    parts.push(text.slice(at, start), <mark key={start}>{text.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

/** Found messages for a query, searched after typing pauses; null while there is nothing to show. */
function useMessageSearch(query: string, search: Props["onSearchMessages"]) {
  const [found, setFound] = useState<{ query: string; hits: SearchHit[] | null; error: string | null } | null>(null);
  const needle = query.trim();
  useEffect(() => {
    if (!search || needle.length < MIN_SEARCH_CHARS) return;
    let current = true;
    const timer = window.setTimeout(() => {
      search(needle).then(
        (hits) => current && setFound({ query: needle, hits, error: null }),
        (e: Error) => current && setFound({ query: needle, hits: null, error: e.message }),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [needle, search]);
  return found && found.query === needle ? found : null;
}

export function Sidebar(props: Props) {
  const { sessions, activeId, onSelect, onNew, onRename, onDelete, onExport, onImport, onPin, onSearchMessages, onOpenMessage, onShare } =
    props;
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
  const groups = useMemo(
    () => (query.trim() ? [{ label: "Chats", sessions: shown }] : groupChats(shown, new Date())),
    [query, shown],
  );
  const found = useMessageSearch(query, onSearchMessages);

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
          placeholder={onSearchMessages ? "Search chats and messages" : "Search chats"}
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
      <List dense sx={{ overflowY: "auto", flex: 1, px: 1 }} subheader={<li />}>
        {groups.map((group) =>
          group.sessions.length === 0 ? null : (
            <li key={group.label}>
              <ul style={{ padding: 0 }}>
                <ListSubheader sx={{ lineHeight: "32px", bgcolor: "background.paper" }}>{group.label}</ListSubheader>
                {group.sessions.map((session) => (
                  <ListItem
                    key={session.id}
                    disablePadding
                    data-pinned={session.pinned_at ? "true" : undefined}
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
              </ul>
            </li>
          ),
        )}
        {shown.length === 0 && !found?.hits?.length && (
          <Typography variant="body2" color="text.secondary" sx={{ p: 2 }}>
            {query ? "No chat matches." : "No chats yet."}
          </Typography>
        )}
        {found && (
          <li>
            <ul style={{ padding: 0 }} data-testid="message-hits">
              <ListSubheader sx={{ lineHeight: "32px", bgcolor: "background.paper" }}>Messages</ListSubheader>
              {found.error && (
                <Typography variant="body2" color="error" sx={{ px: 2 }} role="alert">
                  {found.error}
                </Typography>
              )}
              {found.hits?.length === 0 && (
                <Typography variant="body2" color="text.secondary" sx={{ px: 2 }}>
                  No message holds these words.
                </Typography>
              )}
              {found.hits?.map((hit) => (
                <ListItem key={hit.message_id} disablePadding>
                  <ListItemButton onClick={() => onOpenMessage?.(hit)} sx={{ borderRadius: 1, "& mark": { bgcolor: "warning.light", color: "inherit", borderRadius: 0.5 } }} data-testid="message-hit">
                    <ListItemText
                      primary={<Highlighted text={hit.snippet} highlights={hit.highlights} />}
                      secondary={`${hit.role === "user" ? "You" : "Reply"} in ${hit.session_title}`}
                      slotProps={{ primary: { sx: { display: "-webkit-box", WebkitLineClamp: 2, WebkitBoxOrient: "vertical", overflow: "hidden", overflowWrap: "anywhere" } }, secondary: { noWrap: true } }}
                    />
                  </ListItemButton>
                </ListItem>
              ))}
            </ul>
          </li>
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
        {onPin && menu && (
          <MenuItem
            onClick={() => {
              void onPin(menu.session, !menu.session.pinned_at);
              setMenu(null);
            }}
          >
            {menu.session.pinned_at ? "Unpin" : "Pin"}
          </MenuItem>
        )}
        {onShare && menu && (
          <MenuItem
            onClick={() => {
              onShare(menu.session);
              setMenu(null);
            }}
          >
            Share link…
          </MenuItem>
        )}
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
