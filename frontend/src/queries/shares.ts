// Links to a chat: the list (while the share dialog is open), making one and revoking one.
import { listShares, readShared, revokeShare, shareChat } from "../api/shares";
import { useApiQuery, useRefetchingMutation } from "./cache";

export const shareKeys = {
  chat: (sessionId: number) => ["shares", sessionId] as const,
  shared: (token: string) => ["shared", token] as const,
};

export const useShares = (sessionId: number) =>
  useApiQuery(shareKeys.chat(sessionId), (client) => listShares(client, sessionId));

export function useShareCalls(sessionId: number) {
  const create = useRefetchingMutation(shareKeys.chat(sessionId), (client, _: void) => shareChat(client, sessionId));
  const revoke = useRefetchingMutation(shareKeys.chat(sessionId), revokeShare);
  return { create: create.mutateAsync, revoke: revoke.mutateAsync };
}

export const useSharedChat = (token: string) =>
  useApiQuery(shareKeys.shared(token), (client) => readShared(client, token), { retry: false });
