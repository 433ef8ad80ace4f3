import ExpandLessIcon from "@mui/icons-material/ExpandLess";
import ExpandMoreIcon from "@mui/icons-material/ExpandMore";
import { Box, Button, Collapse, Divider, Typography } from "@mui/material";
import { type ReactNode, useState } from "react";
import type { Citation } from "../../api/types";
import { where } from "./Citations";

/** Where the chat's settings and the selected reply's sources are drawn (portals from ChatView). */
export interface PanelSlots {
  settings: HTMLElement | null;
  sources: HTMLElement | null;
}

/** One part of the side panel under its heading; ``collapsible`` parts fold away. */
function Section({ title, children, collapsible = false, grow = false }: { title: string; children: ReactNode; collapsible?: boolean; grow?: boolean }) {
  const [open, setOpen] = useState(true);
  const id = `panel-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <Box component="section" aria-labelledby={id} sx={{ display: "flex", flexDirection: "column", minHeight: 0, flex: grow && open ? 1 : "none" }}>
      <Box sx={{ display: "flex", alignItems: "center", px: 2, pt: 1.5, pb: 0.5 }}>
        <Typography id={id} component="h2" variant="overline" sx={{ flex: 1, lineHeight: 2 }}>
          {title}
        </Typography>
        {collapsible && (
          <Button size="small" onClick={() => setOpen(!open)} aria-expanded={open} aria-controls={`${id}-body`} endIcon={open ? <ExpandLessIcon /> : <ExpandMoreIcon />}>
            {open ? "Hide" : "Show"}
          </Button>
        )}
      </Box>
      <Collapse in={open} id={`${id}-body`} sx={{ minHeight: 0, flex: grow && open ? 1 : "none", "& .MuiCollapse-wrapper, & .MuiCollapse-wrapperInner": { height: "100%" } }}>
        {children}
      </Collapse>
    </Box>
  );
}

type Slot = (element: HTMLElement | null) => void;

/** The panel beside the chat (tablet and desktop): the chat list (collapsible), the chat's
 * settings, and the sources of the selected reply. ChatView draws the last two into the
 * elements handed to ``settingsSlot`` and ``sourcesSlot``. */
export function SidePanel({ chats, settingsSlot, sourcesSlot }: { chats: ReactNode; settingsSlot: Slot; sourcesSlot: Slot }) {
  return (
    <Box component="aside" aria-label="Chat panel" data-testid="side-panel"
      sx={{ height: "100%", display: "flex", flexDirection: "column", minHeight: 0, bgcolor: "background.paper", borderLeft: 1, borderColor: "divider", overflowY: "auto" }}>
      <Section title="Chats" collapsible grow>
        {chats}
      </Section>
      <Divider />
      <Section title="Chat settings">
        <Box ref={settingsSlot} sx={{ px: 2, pb: 1 }} />
      </Section>
      <Divider />
      <Section title="Sources">
        <Box ref={sourcesSlot} sx={{ px: 2, pb: 2 }} data-testid="panel-sources" />
      </Section>
    </Box>
  );
}

/** The selected reply's sources, each with its place and passage. */
export function SourceList({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) {
    return (
      <Typography variant="body2" color="text.secondary">
        The sources of a reply show here: choose one of its [n] markers or source chips.
      </Typography>
    );
  }
  return (
    <Box component="ol" sx={{ m: 0, pl: 3, display: "flex", flexDirection: "column", gap: 1.5 }}>
      {citations.map((citation, index) => (
        <li key={`${citation.document_id}-${citation.chunk_index}-${index}`} data-source={index + 1}>
          <Typography variant="subtitle2">{citation.title}</Typography>
          {where(citation) && (
            <Typography variant="caption" color="text.secondary">
              {where(citation)}
            </Typography>
          )}
          <Typography variant="body2" sx={{ whiteSpace: "pre-wrap", mt: 0.5 }} className="panel-snippet">
            {citation.snippet}
          </Typography>
        </li>
      ))}
    </Box>
  );
}
