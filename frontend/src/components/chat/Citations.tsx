import DescriptionOutlinedIcon from "@mui/icons-material/DescriptionOutlined";
import { Box, Chip, Popover, Typography } from "@mui/material";
import type { Citation } from "../../api/types";

export function where(citation: Citation): string {
  const parts = [];
  if (citation.page != null) parts.push(`p. ${citation.page}`);
  if (citation.heading) parts.push(citation.heading);
  return parts.join(" · ");
}

/** The source shown, and what opened it (its chip or a "[n]" marker in the reply). */
export interface OpenSource {
  anchor: HTMLElement;
  index: number;
}

interface Props {
  citations: Citation[];
  open: OpenSource | null;
  onOpen: (open: OpenSource | null) => void;
}

/** The reply's sources as chips "[n] title"; a chip or a marker opens the source's passage. */
export function Citations({ citations, open: shown, onOpen }: Props) {
  const citation = shown ? citations[shown.index] : undefined;
  const open = shown && citation ? { anchor: shown.anchor, citation } : null;
  if (citations.length === 0) return null;
  return (
    <Box sx={{ display: "flex", flexWrap: "wrap", gap: 0.75, mt: 1 }} aria-label="Sources">
      {citations.map((citation, index) => {
        const place = where(citation);
        return (
          <Chip
            key={`${citation.document_id}-${citation.chunk_index}-${index}`}
            size="small"
            variant="outlined"
            icon={<DescriptionOutlinedIcon />}
            label={`[${index + 1}] ${citation.title}${place ? ` · ${place}` : ""}`}
            onClick={(e) => onOpen({ anchor: e.currentTarget, index })}
            className="citation"
            data-source={index + 1}
            sx={{ maxWidth: "100%" }}
          />
        );
      })}
      <Popover
        open={open !== null}
        anchorEl={open?.anchor}
        onClose={() => onOpen(null)}
        anchorOrigin={{ vertical: "bottom", horizontal: "left" }}
      >
        {open && (
          <Box sx={{ p: 2, maxWidth: 420 }} role="dialog" aria-label="Source">
            <Typography variant="subtitle2">{open.citation.title}</Typography>
            {where(open.citation) && (
              <Typography variant="caption" color="text.secondary">
                {where(open.citation)}
              </Typography>
            )}
            <Typography variant="body2" sx={{ mt: 1, whiteSpace: "pre-wrap" }} className="citation-snippet">
              {open.citation.snippet}
            </Typography>
          </Box>
        )}
      </Popover>
    </Box>
  );
}
