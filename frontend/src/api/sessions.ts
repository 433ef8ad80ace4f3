// Chat sessions: /api/sessions, and a chat as a file (export, import).
import { inPath, unwrap, type ApiClient } from "./client";
import type { SessionCreate, SessionUpdate } from "./types";

const LIST_LIMIT = 100;
const session = (id: number) => inPath({ session_id: id });

export const listSessions = (client: ApiClient) =>
  unwrap(client.http.GET("/api/sessions", { params: { query: { limit: LIST_LIMIT } } }));

export const getSession = (client: ApiClient, id: number) =>
  unwrap(client.http.GET("/api/sessions/{session_id}", session(id)));

export const createSession = (client: ApiClient, body: SessionCreate) =>
  unwrap(client.http.POST("/api/sessions", { body }));

export const updateSession = (client: ApiClient, id: number, body: SessionUpdate) =>
  unwrap(client.http.PATCH("/api/sessions/{session_id}", { ...session(id), body }));

export const deleteSession = (client: ApiClient, id: number) =>
  unwrap(client.http.DELETE("/api/sessions/{session_id}", session(id)));

export type ExportFormat = "json" | "markdown";

/** A chat as a file to save: QueueChat JSON (importable) or Markdown. */
export async function exportSession(client: ApiClient, id: number, format: ExportFormat): Promise<Blob> {
  const { data, response } = await client.http.GET("/api/sessions/{session_id}/export", {
    ...session(id),
    params: { ...session(id).params, query: { format } },
    parseAs: "blob",
  });
  if (!response.ok || !data) throw new Error(`export failed (${response.status})`);
  return data;
}

/** Chats from a file's JSON: a QueueChat export, or ChatGPT's (one conversation or the list). */
export const importSessions = (client: ApiClient, body: unknown) =>
  unwrap(client.http.POST("/api/sessions/import", { body: body as never }));

/** The user's messages holding every word of ``q`` (as prefixes), best first. */
export const searchMessages = (client: ApiClient, q: string) =>
  unwrap(client.http.GET("/api/search", { params: { query: { q } } }));
