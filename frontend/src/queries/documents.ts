// Knowledge-base documents, newest first: kept live by the socket's progress frames and, while
// any is still being indexed, by a slow poll that covers a socket that is reconnecting.
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import type { ApiClient } from "../api/client";
import { useApiClient } from "../api/context";
import { deleteDocument, documentFile, listDocuments, reindexDocument, uploadDocuments } from "../api/documents";
import type { DocumentList, DocumentOut, UploadResult } from "../api/types";
import { useStreaming } from "../streaming";
import { useApiMutation, useRefetchingMutation } from "./cache";

const POLL_MS = 3000;
export const documentKeys = { list: ["documents"] as const };

export const inProgress = (d: DocumentOut) => d.status !== "ready" && d.status !== "error";

const newestFirst = (items: DocumentOut[]) => [...items].sort((a, b) => b.id - a.id);

function mergeDocuments(queryClient: QueryClient, changed: DocumentOut[]): void {
  queryClient.setQueryData<DocumentList>(documentKeys.list, (cached) => {
    const byId = new Map((cached?.items ?? []).map((d) => [d.id, d]));
    changed.forEach((d) => byId.set(d.id, d));
    return { items: newestFirst([...byId.values()]) };
  });
}

export function useDocuments() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const { socket } = useStreaming();
  useEffect(() => {
    socket.followDocuments();
    return socket.onFrame((frame) => {
      if (frame.type === "document" && frame.document) mergeDocuments(queryClient, [frame.document as DocumentOut]);
    });
  }, [socket, queryClient]);
  return useQuery({
    queryKey: documentKeys.list,
    queryFn: async () => ({ items: newestFirst((await listDocuments(client)).items) }),
    refetchInterval: (query) => (query.state.data?.items.some(inProgress) ? POLL_MS : false),
  });
}

/** The panel's calls: upload (merged into the list), re-index and delete (then reloaded), download. */
export function useDocumentCalls() {
  const upload = useApiMutation(uploadDocuments, (queryClient, uploaded: UploadResult) =>
    mergeDocuments(queryClient, uploaded.items),
  );
  const reindex = useRefetchingMutation(documentKeys.list, reindexDocument);
  const remove = useRefetchingMutation(documentKeys.list, deleteDocument);
  const download = useApiMutation(downloadDocument);
  return {
    upload: upload.mutateAsync,
    uploading: upload.isPending,
    reindex: reindex.mutateAsync,
    remove: remove.mutateAsync,
    download: download.mutateAsync,
  };
}

/** Fetches a document's file (with the bearer token) and hands it to the browser as a download. */
async function downloadDocument(client: ApiClient, doc: DocumentOut): Promise<void> {
  const url = URL.createObjectURL(await documentFile(client, doc.id));
  const link = Object.assign(document.createElement("a"), { href: url, download: doc.original_name });
  link.click();
  URL.revokeObjectURL(url);
}
