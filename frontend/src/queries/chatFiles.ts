// A chat's files: loaded again every second while one is being read; attach and remove.
import { skipToken, useQuery, type QueryClient } from "@tanstack/react-query";
import { useApiClient } from "../api/context";
import { attachChatFiles, deleteChatFile, listChatFiles } from "../api/chatFiles";
import type { ChatFileOut } from "../api/types";
import { useApiMutation } from "./cache";

export const chatFileKeys = { of: (sessionId: number | null) => ["chat-files", sessionId] as const };

const READING = new Set(["queued", "extracting", "embedding"]);
export const isReading = (file: Pick<ChatFileOut, "status">) => READING.has(file.status);

export function useChatFiles(sessionId: number | null) {
  const client = useApiClient();
  return useQuery({
    queryKey: chatFileKeys.of(sessionId),
    queryFn: sessionId === null ? skipToken : () => listChatFiles(client, sessionId),
    refetchInterval: (query) => (query.state.data?.items.some(isReading) ? 1000 : false),
  });
}

export function useChatFileCalls() {
  const reload = (queryClient: QueryClient, sessionId: number) =>
    queryClient.invalidateQueries({ queryKey: chatFileKeys.of(sessionId) });
  const attach = useApiMutation(
    (client, { sessionId, files }: { sessionId: number; files: File[] }) => attachChatFiles(client, sessionId, files),
    (queryClient, _, { sessionId }) => reload(queryClient, sessionId),
  );
  const remove = useApiMutation(
    (client, { sessionId, fileId }: { sessionId: number; fileId: number }) => deleteChatFile(client, sessionId, fileId),
    (queryClient, _, { sessionId }) => reload(queryClient, sessionId),
  );
  return { attach: attach.mutateAsync, remove: remove.mutateAsync };
}
