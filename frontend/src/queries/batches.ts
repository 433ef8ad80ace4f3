// Batch jobs: the list (polled while any batch is open, so progress moves on screen), the
// models to choose from, and the calls that change them.
import { cancelBatch, listBatches, listModels, submitBatch, type BatchOptions } from "../api/batches";
import { useApiQuery, useRefetchingMutation } from "./cache";

const OPEN_REFRESH_MS = 1000;
export const batchKeys = { list: ["batches"] as const, models: ["models"] as const };

export const useBatches = () =>
  useApiQuery(batchKeys.list, listBatches, {
    refetchInterval: (query) =>
      query.state.data?.items.some((b) => b.status === "queued" || b.status === "running") ? OPEN_REFRESH_MS : false,
  });

// the models a live worker serves: they change when workers come and go
export const useModels = () => useApiQuery(batchKeys.models, listModels, { staleTime: 30_000 });

export function useBatchCalls() {
  const submit = useRefetchingMutation(batchKeys.list, (client, { file, options }: { file: File; options: BatchOptions }) =>
    submitBatch(client, file, options),
  );
  const cancel = useRefetchingMutation(batchKeys.list, cancelBatch);
  return { submit: submit.mutateAsync, cancel: cancel.mutateAsync };
}
