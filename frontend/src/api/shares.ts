// Chats shared as read-only links: /api/sessions/{id}/shares, /api/shares/{id}, /api/shared/{token}.
import { inPath, unwrap, type ApiClient } from "./client";

const chat = (id: number) => inPath({ session_id: id });

export const shareChat = (client: ApiClient, sessionId: number) =>
  unwrap(client.http.POST("/api/sessions/{session_id}/shares", chat(sessionId)));

export const listShares = (client: ApiClient, sessionId: number) =>
  unwrap(client.http.GET("/api/sessions/{session_id}/shares", chat(sessionId)));

export const revokeShare = (client: ApiClient, shareId: number) =>
  unwrap(client.http.DELETE("/api/shares/{share_id}", inPath({ share_id: shareId })));

export const readShared = (client: ApiClient, token: string) =>
  unwrap(client.http.GET("/api/shared/{token}", { params: { path: { token } } }));

/** The page a link opens: this server's origin and the link's token. */
export const shareUrl = (token: string) => `${window.location.origin}/s/${token}`;
