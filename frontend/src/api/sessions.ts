// Chat sessions: /api/sessions.
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
