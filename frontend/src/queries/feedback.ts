// Feedback: rating a reply (the chat's messages reload with it) and the admin list.
import { keepPreviousData } from "@tanstack/react-query";
import { listFeedback, rateReply, withdrawRating, type FeedbackIn, type FeedbackQuery } from "../api/feedback";
import { useApiMutation, useApiQuery } from "./cache";
import { messageKeys } from "./messages";

export const feedbackKeys = { list: (query: FeedbackQuery) => ["admin", "feedback", query] as const };

export const useFeedbackList = (query: FeedbackQuery) =>
  useApiQuery(feedbackKeys.list(query), (client) => listFeedback(client, query), { placeholderData: keepPreviousData });

export function useRating(sessionId: number) {
  const rate = useApiMutation(
    (client, { id, body }: { id: number; body: FeedbackIn }) => rateReply(client, id, body),
    (queryClient) => queryClient.invalidateQueries({ queryKey: messageKeys.of(sessionId) }),
  );
  const withdraw = useApiMutation(
    (client, id: number) => withdrawRating(client, id),
    (queryClient) => queryClient.invalidateQueries({ queryKey: messageKeys.of(sessionId) }),
  );
  return { rate: rate.mutateAsync, withdraw: withdraw.mutateAsync };
}
