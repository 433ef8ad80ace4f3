import { Button, Dialog, DialogActions, DialogContent, DialogContentText, DialogTitle } from "@mui/material";
import { useCallback, useRef, useState, type ReactNode } from "react";

interface Ask {
  title: string;
  text: string;
  action: string;
}

/** A confirmation before something that cannot be undone: `confirm` resolves true when the
 * person chose the action, false when they cancelled (Escape, a click outside, Cancel). */
export function useConfirm(): [ReactNode, (ask: Ask) => Promise<boolean>] {
  const [ask, setAsk] = useState<Ask | null>(null);
  const answer = useRef<(yes: boolean) => void>(() => undefined);
  const confirm = useCallback(
    (next: Ask) =>
      new Promise<boolean>((resolve) => {
        answer.current = resolve;
        setAsk(next);
      }),
    [],
  );
  const close = (yes: boolean) => {
    setAsk(null);
    answer.current(yes);
  };
  const dialog = (
    <Dialog open={ask !== null} onClose={() => close(false)} aria-labelledby="confirm-title">
      <DialogTitle id="confirm-title">{ask?.title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{ask?.text}</DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => close(false)} autoFocus>
          Cancel
        </Button>
        <Button color="error" variant="contained" onClick={() => close(true)}>
          {ask?.action}
        </Button>
      </DialogActions>
    </Dialog>
  );
  return [dialog, confirm];
}
