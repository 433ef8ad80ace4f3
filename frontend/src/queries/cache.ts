// The shapes every query hook shares: a query or a call made with the context's client, a cached
// list edited in place, or reloaded after a call.
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type QueryKey,
  type UseQueryOptions,
} from "@tanstack/react-query";
import type { ApiClient } from "../api/client";
import { useApiClient } from "../api/context";

type QueryExtras<T> = Omit<UseQueryOptions<T, Error, T, QueryKey>, "queryKey" | "queryFn">;

/** The answer of `load(client)`, cached under `key`. */
export function useApiQuery<T>(key: QueryKey, load: (client: ApiClient) => Promise<T>, extras?: QueryExtras<T>) {
  const client = useApiClient();
  return useQuery({ queryKey: key, queryFn: () => load(client), ...extras });
}

/** A call that changes the server's data; `after` brings the cache up to date with its answer. */
export function useApiMutation<V, R>(
  call: (client: ApiClient, variables: V) => Promise<R>,
  after?: (queryClient: QueryClient, result: R, variables: V) => unknown,
) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (variables: V) => call(client, variables),
    onSuccess: (result, variables) => after?.(queryClient, result, variables),
  });
}

/** A call after which the query under `key` is loaded again (and waited for). */
export const useRefetchingMutation = <V, R>(key: QueryKey, call: (client: ApiClient, variables: V) => Promise<R>) =>
  useApiMutation(call, (queryClient) => queryClient.invalidateQueries({ queryKey: key }));

/** Changes the items of a cached `{ items: [...] }` answer, when there is one. */
export function editItems<T>(queryClient: QueryClient, key: QueryKey, edit: (items: T[]) => T[]): void {
  queryClient.setQueryData<{ items: T[] }>(key, (cached) => cached && { ...cached, items: edit(cached.items) });
}

/** Puts a changed row in place of the one with its id. */
export const replaceById =
  <T extends { id: number }>(changed: T) =>
  (items: T[]): T[] =>
    items.map((item) => (item.id === changed.id ? changed : item));
