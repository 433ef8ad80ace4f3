// Thumbs up or down on a finished reply, with an optional comment; the active thumb again
// withdraws the rating.
import ThumbDownAltOutlinedIcon from "@mui/icons-material/ThumbDownAltOutlined";
import ThumbDownIcon from "@mui/icons-material/ThumbDown";
import ThumbUpAltOutlinedIcon from "@mui/icons-material/ThumbUpAltOutlined";
import ThumbUpIcon from "@mui/icons-material/ThumbUp";
import { Box, Button, IconButton, TextField, Tooltip, Typography } from "@mui/material";
import { useState } from "react";
import type { MessageOut } from "../../api/types";
import { useRating } from "../../queries/feedback";

type Rating = "up" | "down";

export function FeedbackButtons({ message }: { message: MessageOut }) {
  const { rate, withdraw } = useRating(message.session_id);
  const current = (message.feedback?.rating ?? null) as Rating | null;
  const [editing, setEditing] = useState<Rating | null>(null);
  const [comment, setComment] = useState(message.feedback?.comment ?? "");
  const [problem, setProblem] = useState<string | null>(null);

  const run = async (action: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await action();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  const click = (rating: Rating) =>
    run(async () => {
      if (current === rating) {
        await withdraw(message.id);
        setEditing(null);
        setComment("");
        return;
      }
      await rate({ id: message.id, body: { rating, comment: comment.trim() || null } });
      setEditing(rating);
    });

  const save = () =>
    run(async () => {
      if (!editing) return;
      await rate({ id: message.id, body: { rating: editing, comment: comment.trim() || null } });
      setEditing(null);
    });

  return (
    <>
      <Tooltip title={current === "up" ? "Withdraw rating" : "Good reply"}>
        <IconButton size="small" aria-label="Good reply" aria-pressed={current === "up"} onClick={() => void click("up")}>
          {current === "up" ? <ThumbUpIcon fontSize="inherit" color="primary" /> : <ThumbUpAltOutlinedIcon fontSize="inherit" />}
        </IconButton>
      </Tooltip>
      <Tooltip title={current === "down" ? "Withdraw rating" : "Bad reply"}>
        <IconButton size="small" aria-label="Bad reply" aria-pressed={current === "down"} onClick={() => void click("down")}>
          {current === "down" ? <ThumbDownIcon fontSize="inherit" color="primary" /> : <ThumbDownAltOutlinedIcon fontSize="inherit" />}
        </IconButton>
      </Tooltip>
      {problem && (
        <Typography variant="caption" color="error" role="alert">
          {problem}
        </Typography>
      )}
      {editing && (
        <Box sx={{ display: "flex", gap: 1, alignItems: "center", flexBasis: "100%", mt: 0.5 }}>
          <TextField
            size="small"
            label="Comment (optional)"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            slotProps={{ htmlInput: { maxLength: 2000 } }}
            sx={{ flex: 1 }}
          />
          <Button size="small" variant="contained" onClick={() => void save()}>
            Send
          </Button>
        </Box>
      )}
    </>
  );
}
