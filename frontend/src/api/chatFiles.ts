// Files attached in a chat (its owner's alone): /api/sessions/{id}/files.
import { inPath, unwrap, type ApiClient } from "./client";

const chat = (id: number) => inPath({ session_id: id });

export const listChatFiles = (client: ApiClient, sessionId: number) =>
  unwrap(client.http.GET("/api/sessions/{session_id}/files", chat(sessionId)));

/** Uploads files in the multipart field 'files' (the FormData goes out as it is). */
export function attachChatFiles(client: ApiClient, sessionId: number, files: File[]) {
  const form = new FormData();
  files.forEach((file) => form.append("files", file));
  const body = { files: files.map((file) => file.name) };
  return unwrap(
    client.http.POST("/api/sessions/{session_id}/files", { ...chat(sessionId), body, bodySerializer: () => form }),
  );
}

export const deleteChatFile = (client: ApiClient, sessionId: number, fileId: number) =>
  unwrap(
    client.http.DELETE("/api/sessions/{session_id}/files/{attachment_id}", inPath({ session_id: sessionId, attachment_id: fileId })),
  );
