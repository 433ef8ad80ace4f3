// A chat's messages, and the calls that queue or stop a reply. Replies not final yet are
// followed on the socket; once one reaches its final event, the stored messages are loaded again.
import { skipToken, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useApiClient } from "../api/context";
import {
  cancelReply,
  deleteMessagePair,
  editMessage,
  getLimits,
  listMessages,
  regenerateReply,
  sendMessage,
  showVersion,
} from "../api/messages";
import { FINAL_STATUSES } from "../api/enums";
import type { MessageCreate, MessageList, RegenerateBody, ReplyQueued } from "../api/types";
import { useStreaming } from "../streaming";
import { useApiMutation, useApiQuery } from "./cache";

export const messageKeys = {
  of: (sessionId: number | null) => ["messages", sessionId] as const,
  limits: ["limits"] as const,
};

/** The server's message limits; they change only with its settings. */
export const useLimits = () => useApiQuery(messageKeys.limits, getLimits, { staleTime: Infinity });

export function useMessages(sessionId: number | null) {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const { store, socket } = useStreaming();
  const query = useQuery({
    queryKey: messageKeys.of(sessionId),
    queryFn:
      sessionId === null
        ? skipToken
        : async () => {
            const list = await listMessages(client, sessionId);
            for (const message of list.items) {
              if (message.role === "assistant" && !FINAL_STATUSES.has(message.status)) {
                store.track(message.id, message.status);
                socket.follow(message.id);
              }
            }
            return list;
          },
  });

  // a reply that reached its final event is stored: show the stored version
  useEffect(
    () =>
      store.subscribe((state) => {
        if (sessionId === null || !FINAL_STATUSES.has(state.status)) return;
        const key = messageKeys.of(sessionId);
        if (!queryClient.getQueryData<MessageList>(key)?.items.some((m) => m.id === state.messageId)) return;
        void queryClient.invalidateQueries({ queryKey: key });
      }),
    [store, sessionId, queryClient],
  );
  return query;
}

/** The chat's calls. A queued reply is followed on the socket, and the messages (the new ones included) are loaded again. */
export function useReplyCalls() {
  const { store, socket } = useStreaming();
  const queued = (queryClient: QueryClient, reply: ReplyQueued, { sessionId }: { sessionId: number }) => {
    store.track(reply.assistant_message_id);
    socket.follow(reply.assistant_message_id);
    return queryClient.invalidateQueries({ queryKey: messageKeys.of(sessionId) });
  };
  const send = useApiMutation(
    (client, { sessionId, body }: { sessionId: number; body: MessageCreate }) => sendMessage(client, sessionId, body),
    queued,
  );
  const regenerate = useApiMutation(
    (client, { sessionId, body }: { sessionId: number; body: RegenerateBody }) => regenerateReply(client, sessionId, body),
    queued,
  );
  const edit = useApiMutation(
    (client, { messageId, body }: { messageId: number; sessionId: number; body: MessageCreate }) =>
      editMessage(client, messageId, body),
    queued,
  );
  // the answer is the chat as it now shows: no second request
  const show = useApiMutation(
    (client, { messageId }: { messageId: number; sessionId: number }) => showVersion(client, messageId),
    (queryClient, list, { sessionId }: { messageId: number; sessionId: number }) =>
      queryClient.setQueryData(messageKeys.of(sessionId), list),
  );
  const cancel = useApiMutation(cancelReply);
  const removePair = useApiMutation(
    (client, { messageId }: { messageId: number; sessionId: number }) => deleteMessagePair(client, messageId),
    (queryClient, _, { sessionId }: { messageId: number; sessionId: number }) =>
      queryClient.invalidateQueries({ queryKey: messageKeys.of(sessionId) }),
  );
  return {
    send: send.mutateAsync,
    regenerate: regenerate.mutateAsync,
    edit: edit.mutateAsync,
    showVersion: show.mutateAsync,
    cancel: cancel.mutateAsync,
    removePair: removePair.mutateAsync,
  };
}
