// Chat sessions: the list (with the open chat fetched on its own when it is older than the
// listed ones), and the calls that change it, each editing the cached list in place.
import { skipToken, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useApiClient } from "../api/context";
import { createSession, deleteSession, getSession, importSessions, listSessions, updateSession } from "../api/sessions";
import type { ImportedChats, SessionCreate, SessionOut, SessionUpdate } from "../api/types";
import { editItems, replaceById, useApiMutation } from "./cache";

export const sessionKeys = {
  all: ["sessions"] as const,
  list: ["sessions", "list"] as const,
  one: (id: number | null) => ["sessions", "one", id] as const,
};

export function useChatSessions(activeId: number | null) {
  const client = useApiClient();
  const list = useQuery({ queryKey: sessionKeys.list, queryFn: () => listSessions(client) });
  const listed = list.data?.items ?? [];
  const unlisted = list.data !== undefined && activeId !== null && !listed.some((s) => s.id === activeId);
  const single = useQuery({
    queryKey: sessionKeys.one(activeId),
    queryFn: activeId !== null && unlisted ? () => getSession(client, activeId) : skipToken,
  });
  const extra = unlisted ? single.data : undefined;
  const sessions: SessionOut[] = extra ? [...listed, extra] : listed;
  return {
    list,
    sessions,
    active: sessions.find((s) => s.id === activeId) ?? null,
    /** the open chat does not exist, or is not this user's */
    missing: unlisted && single.isError,
  };
}

export function useRefreshSessions(): () => void {
  const queryClient = useQueryClient();
  return useCallback(() => void queryClient.invalidateQueries({ queryKey: sessionKeys.all }), [queryClient]);
}

/** The calls that create, change or delete a chat; each edits the cached list in place. */
export function useSessionCalls() {
  const create = useApiMutation(
    (client, body: SessionCreate) => createSession(client, body),
    (queryClient, created: SessionOut) => editItems<SessionOut>(queryClient, sessionKeys.list, (items) => [created, ...items]),
  );
  const update = useApiMutation(
    (client, { id, patch }: { id: number; patch: SessionUpdate }) => updateSession(client, id, patch),
    (queryClient, changed: SessionOut) => {
      editItems(queryClient, sessionKeys.list, replaceById(changed));
      queryClient.setQueryData(sessionKeys.one(changed.id), changed);
    },
  );
  const remove = useApiMutation(deleteSession, (queryClient, _, id: number) =>
    editItems<SessionOut>(queryClient, sessionKeys.list, (items) => items.filter((s) => s.id !== id)),
  );
  const importChats = useApiMutation(importSessions, (queryClient, made: ImportedChats) =>
    editItems<SessionOut>(queryClient, sessionKeys.list, (items) => [...made.items, ...items]),
  );
  return { create: create.mutateAsync, update: update.mutateAsync, remove: remove.mutateAsync, importChats: importChats.mutateAsync };
}
