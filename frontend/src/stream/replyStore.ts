// Live replies by message id. Each one's text and last event id are kept in sessionStorage too,
// so a reload resumes the stream right after the last event shown: no gap, nothing twice.
import type { MessageStatus } from "../api/enums";
import { applyEvent, initialReply, isFinal, type ReplyState, type StreamEvent } from "./events";

const PREFIX = "qc.reply.";
type Listener = (state: ReplyState) => void;

interface Snapshot {
  text: string;
  lastEventId: string;
  status: MessageStatus;
}

export class ReplyStore {
  private replies = new Map<number, ReplyState>();
  private listeners = new Set<Listener>();

  constructor(private storage: Storage = sessionStorage) {}

  get(messageId: number): ReplyState | undefined {
    return this.replies.get(messageId);
  }

  /** Starts following a reply that is not final yet, from a saved snapshot when there is one. */
  track(messageId: number, status: MessageStatus = "queued"): ReplyState {
    const known = this.replies.get(messageId);
    if (known) return known;
    let state = initialReply(messageId, status);
    const raw = this.storage.getItem(PREFIX + messageId);
    if (raw) {
      try {
        const saved = JSON.parse(raw) as Snapshot;
        state = { ...state, text: saved.text, lastEventId: saved.lastEventId, status: saved.status };
      } catch {
        this.storage.removeItem(PREFIX + messageId);
      }
    }
    this.replies.set(messageId, state);
    return state;
  }

  apply(event: StreamEvent): ReplyState | undefined {
    const current = this.replies.get(event.message_id);
    if (!current) return undefined;
    const next = applyEvent(current, event);
    if (next === current) return current;
    this.replies.set(event.message_id, next);
    this.persist(next);
    this.listeners.forEach((listener) => listener(next));
    return next;
  }

  forget(messageId: number): void {
    this.replies.delete(messageId);
    this.storage.removeItem(PREFIX + messageId);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private persist(state: ReplyState): void {
    try {
      if (isFinal(state.status) || state.lastEventId === null) {
        this.storage.removeItem(PREFIX + state.messageId);
      } else {
        const snapshot: Snapshot = {
          text: state.text,
          lastEventId: state.lastEventId,
          status: state.status,
        };
        this.storage.setItem(PREFIX + state.messageId, JSON.stringify(snapshot));
      }
    } catch {
      // storage full or disabled: a reload then replays the stream from its start instead
    }
  }
}
