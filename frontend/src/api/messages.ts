// A chat's messages, and the replies queued for them: /api/sessions/{id}/messages, /api/messages.
import { inPath, unwrap, type ApiClient } from "./client";
import type { MessageCreate, RegenerateBody } from "./types";

const session = (id: number) => inPath({ session_id: id });

export const listMessages = (client: ApiClient, sessionId: number) =>
  unwrap(client.http.GET("/api/sessions/{session_id}/messages", session(sessionId)));

export const sendMessage = (client: ApiClient, sessionId: number, body: MessageCreate) =>
  unwrap(client.http.POST("/api/sessions/{session_id}/messages", { ...session(sessionId), body }));

export const regenerateReply = (client: ApiClient, sessionId: number, body: RegenerateBody) =>
  unwrap(client.http.POST("/api/sessions/{session_id}/regenerate", { ...session(sessionId), body }));

/** A new version of a question (the old one and what followed it stay a version). */
export const editMessage = (client: ApiClient, messageId: number, body: MessageCreate) =>
  unwrap(client.http.POST("/api/messages/{message_id}/edit", { ...inPath({ message_id: messageId }), body }));

/** Shows the branch through this version; the chat's messages as they now show. */
export const showVersion = (client: ApiClient, messageId: number) =>
  unwrap(client.http.POST("/api/messages/{message_id}/show", inPath({ message_id: messageId })));

export const cancelReply = (client: ApiClient, messageId: number) =>
  unwrap(client.http.POST("/api/messages/{message_id}/cancel", inPath({ message_id: messageId })));

/** What a message may be (characters) and the context it must fit (tokens). */
export const getLimits = (client: ApiClient) => unwrap(client.http.GET("/api/limits"));

/** Deletes a question and its reply (either id). */
export const deleteMessagePair = (client: ApiClient, messageId: number) =>
  unwrap(client.http.DELETE("/api/messages/{message_id}", inPath({ message_id: messageId })));
