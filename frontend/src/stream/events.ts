// Frames the /ws relay sends, and the pure rules that turn them into a reply's visible state.
import { FINAL_STATUSES, type MessageStatus } from "../api/enums";
import type { Citation, MessageOut } from "../api/types";

export interface StreamStats {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  time_to_first_token_ms?: number | null;
  tokens_per_second?: number | null;
}

export type StreamEvent =
  | { type: "token"; id: string; message_id: number; text: string }
  | { type: "reset"; id: string; message_id: number }
  | ({ type: "done"; id: string; message_id: number; citations?: Citation[]; finish_reason?: string | null } & StreamStats)
  | { type: "cancelled"; id: string; message_id: number }
  | { type: "error"; id: string; message_id: number; error?: string }
  | { type: "message"; id?: string; message_id: number; message: MessageOut }
  | { type: "queued"; id?: undefined; message_id: number; position: number };

export interface ReplyState {
  messageId: number;
  text: string;
  status: MessageStatus;
  lastEventId: string | null;
  error: string | null;
  citations: Citation[];
  stats: StreamStats | null;
  /** why the reply ended: "stop", "length", "budget" (the user's token budget ran out), ... */
  finishReason: string | null;
  /** 1 when the next free worker takes this reply; null once it started or when unknown. */
  queuePosition: number | null;
}

export const STREAM_EVENT_TYPES = new Set(["token", "reset", "done", "cancelled", "error", "message", "queued"]);

export function isFinal(status: MessageStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** Orders Redis stream ids ("<ms>-<seq>"); negative when a comes first. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export function initialReply(messageId: number, status: MessageStatus = "queued"): ReplyState {
  return {
    messageId,
    text: "",
    status,
    lastEventId: null,
    error: null,
    citations: [],
    stats: null,
    finishReason: null,
    queuePosition: null,
  };
}

/**
 * Applies one event. Returns the same object when the event changes nothing: an event at or
 * before the last id seen (a duplicate after a resume) or any event after the final one.
 */
export function applyEvent(state: ReplyState, event: StreamEvent): ReplyState {
  if (isFinal(state.status)) return state;
  if (event.type === "queued") {
    return state.lastEventId === null ? { ...state, queuePosition: event.position } : state;
  }
  if (event.type === "message") {
    const stored = event.message;
    return {
      ...state,
      text: stored.content,
      status: stored.status,
      error: stored.error ?? null,
      citations: stored.citations ?? [],
      finishReason: stored.finish_reason ?? null,
    };
  }
  if (state.lastEventId !== null && compareEventIds(event.id, state.lastEventId) <= 0) {
    return state;
  }
  const next: ReplyState = { ...state, lastEventId: event.id, queuePosition: null };
  switch (event.type) {
    case "token":
      next.text = state.text + event.text;
      next.status = "generating";
      break;
    case "reset":
      next.text = "";
      next.status = "generating";
      break;
    case "done":
      next.status = "done";
      next.citations = event.citations ?? [];
      next.finishReason = event.finish_reason ?? null;
      next.stats = {
        prompt_tokens: event.prompt_tokens,
        completion_tokens: event.completion_tokens,
        time_to_first_token_ms: event.time_to_first_token_ms,
        tokens_per_second: event.tokens_per_second,
      };
      break;
    case "cancelled":
      next.status = "cancelled";
      break;
    case "error":
      next.status = "error";
      next.error = event.error ?? "the reply failed";
      break;
  }
  return next;
}
