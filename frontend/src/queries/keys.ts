// API keys: the list, creating one (its secret is handed to the caller, never cached) and revoking.
import { createKey, listKeys, revokeKey } from "../api/keys";
import { useApiQuery, useRefetchingMutation } from "./cache";

export const keyKeys = { list: ["keys"] as const };

export const useKeys = () => useApiQuery(keyKeys.list, listKeys);

export function useKeyCalls() {
  const create = useRefetchingMutation(keyKeys.list, createKey);
  const revoke = useRefetchingMutation(keyKeys.list, revokeKey);
  return { create: create.mutateAsync, revoke: revoke.mutateAsync };
}
