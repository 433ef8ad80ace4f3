import { useCallback, useState } from "react";

interface Load {
  error: Error | null;
  errorUpdatedAt: number;
}

/** The one error line a view shows: its last action's failure, else a failed load, until dismissed. */
export function useErrorAlert(...loads: Load[]) {
  const [failure, setFailure] = useState<string | null>(null);
  const [dismissedAt, setDismissedAt] = useState(0);
  const failedLoad = loads.find((load) => load.error !== null && load.errorUpdatedAt > dismissedAt);

  const clear = useCallback(() => {
    setFailure(null);
    setDismissedAt(Date.now());
  }, []);

  /** Runs an action after clearing the line; its failure's message becomes the line. True when it succeeded. */
  const attempt = useCallback(
    async (action: () => Promise<unknown>): Promise<boolean> => {
      clear();
      try {
        await action();
        return true;
      } catch (e) {
        setFailure((e as Error).message);
        return false;
      }
    },
    [clear],
  );

  return { message: failure ?? failedLoad?.error?.message ?? null, clear, attempt };
}
