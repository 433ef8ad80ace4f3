import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import {
  Alert,
  Button,
  CircularProgress,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  IconButton,
  List,
  ListItem,
  ListItemText,
  Tooltip,
  Typography,
} from "@mui/material";
import { useState } from "react";
import { shareUrl } from "../../api/shares";
import type { SessionOut } from "../../api/types";
import { useShareCalls, useShares } from "../../queries/shares";

/** A chat's read-only links: make one (the chat as it is now), copy one, revoke one. */
export function ShareDialog({ session, onClose }: { session: SessionOut; onClose: () => void }) {
  const shares = useShares(session.id);
  const calls = useShareCalls(session.id);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<number | null>(null);
  const attempt = async (call: () => Promise<unknown>) => {
    setError(null);
    try {
      await call();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const copy = async (id: number, token: string) => {
    await navigator.clipboard?.writeText(shareUrl(token)).catch(() => undefined);
    setCopied(id);
  };
  const links = shares.data?.items ?? [];
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="sm" aria-labelledby="share-title">
      <DialogTitle id="share-title">Share “{session.title}”</DialogTitle>
      <DialogContent>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          Anyone signed in to this QueueChat who has a link reads the chat as it was when the link was
          made (later messages are not shown). Revoking a link stops it at once.
        </Typography>
        {error && (
          <Alert severity="error" role="alert" sx={{ mb: 1 }}>
            {error}
          </Alert>
        )}
        {shares.isLoading && <CircularProgress size={20} />}
        {shares.data && links.length === 0 && (
          <Typography variant="body2" sx={{ my: 1 }}>
            No links yet.
          </Typography>
        )}
        <List dense data-testid="share-links">
          {links.map((link) => (
            <ListItem
              key={link.id}
              disableGutters
              data-token={link.token}
              secondaryAction={
                <Button size="small" color="error" onClick={() => void attempt(() => calls.revoke(link.id))}>
                  Revoke
                </Button>
              }
            >
              <Tooltip title={copied === link.id ? "Copied" : "Copy link"}>
                <IconButton size="small" aria-label="Copy link" onClick={() => void copy(link.id, link.token)}>
                  <ContentCopyIcon fontSize="inherit" />
                </IconButton>
              </Tooltip>
              <ListItemText
                sx={{ ml: 1, mr: 8 }}
                primary={shareUrl(link.token)}
                secondary={`${new Date(link.created_at).toLocaleString()} · ${link.message_count} messages`}
                slotProps={{ primary: { sx: { overflowWrap: "anywhere", fontFamily: "monospace", fontSize: 13 } } }}
              />
            </ListItem>
          ))}
        </List>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
        <Button
          variant="contained"
          onClick={() =>
            void attempt(async () => {
              const made = await calls.create();
              await copy(made.id, made.token); // the new link is on the clipboard
            })
          }
        >
          Create link
        </Button>
      </DialogActions>
    </Dialog>
  );
}
