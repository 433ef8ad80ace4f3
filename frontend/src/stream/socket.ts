// One WebSocket to /ws per tab: authenticates with the first frame, keeps the wanted reply
// subscriptions, and after any drop reconnects and resubscribes from each reply's last event id.
import { STREAM_EVENT_TYPES, isFinal, type StreamEvent } from "./events";
import type { ReplyStore } from "./replyStore";

export type Frame = { type: string; [key: string]: unknown };
type FrameListener = (frame: Frame) => void;
type SocketFactory = (url: string) => WebSocket;

/** Problem codes with which the server ends a login's sockets: the tab is signed out. */
export const SIGNED_OUT_CODES = new Set(["logged_out", "deactivated", "token_revoked", "account_gone"]);
/** Problem codes after which a fresh access token is enough: reconnect, refreshing first. */
const REAUTHENTICATE_CODES = new Set(["token_expired", "role_changed"]);

export interface StreamSocketOptions {
  url?: string;
  getToken: (forceRefresh?: boolean) => Promise<string | null>;
  /** The server closed the socket because the login ended; ``reason`` is its explanation. */
  onSignedOut?: (reason: string) => void;
  store: ReplyStore;
  createSocket?: SocketFactory;
  retryDelaysMs?: number[];
}

export function defaultSocketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws`;
}

export class StreamSocket {
  private socket: WebSocket | null = null;
  private ready = false;
  private wanted = new Set<number>();
  private documentsWanted = false;
  private listeners = new Set<FrameListener>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closedByUs = false;
  private authFailures = 0;
  private readonly url: string;
  private readonly createSocket: SocketFactory;
  private readonly retryDelaysMs: number[];

  constructor(private options: StreamSocketOptions) {
    this.url = options.url ?? defaultSocketUrl();
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url));
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 500, 1000, 2000, 4000];
  }

  /** Follows a reply's stream until its final event, across reconnects. */
  follow(messageId: number): void {
    this.wanted.add(messageId);
    if (this.ready) this.sendSubscribe(messageId);
    else this.connect();
  }

  unfollow(messageId: number): void {
    if (this.wanted.delete(messageId) && this.ready) {
      this.send({ type: "unsubscribe", message_id: messageId });
    }
  }

  followDocuments(): void {
    this.documentsWanted = true;
    if (this.ready) this.send({ type: "subscribe_documents" });
    else this.connect();
  }

  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closedByUs = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
    this.ready = false;
  }

  /** Drops the connection as a network failure would (used by tests and on logout). */
  drop(): void {
    this.socket?.close();
  }

  get following(): number[] {
    return [...this.wanted];
  }

  private connect(): void {
    if (this.socket || this.timer) return;
    this.closedByUs = false;
    const socket = this.createSocket(this.url);
    this.socket = socket;
    socket.onopen = () => void this.authenticate(socket);
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      if (!this.closedByUs && (this.wanted.size > 0 || this.documentsWanted)) this.scheduleReconnect();
    };
    socket.onerror = () => undefined; // onclose follows and reconnects
  }

  private scheduleReconnect(): void {
    const delay = this.retryDelaysMs[Math.min(this.attempt, this.retryDelaysMs.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private async authenticate(socket: WebSocket): Promise<void> {
    const token = await this.options.getToken(this.authFailures > 0);
    if (socket !== this.socket) return;
    if (!token) {
      this.closedByUs = true;
      socket.close();
      return;
    }
    socket.send(JSON.stringify({ type: "auth", token }));
  }

  private receive(data: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(data) as Frame;
    } catch {
      return;
    }
    if (frame.type === "ready") {
      this.ready = true;
      this.attempt = 0;
      this.authFailures = 0;
      this.wanted.forEach((id) => this.sendSubscribe(id));
      if (this.documentsWanted) this.send({ type: "subscribe_documents" });
    } else if (frame.type === "problem" && SIGNED_OUT_CODES.has(String(frame.code))) {
      this.closedByUs = true; // the login is over: no reconnect
      this.options.onSignedOut?.(String(frame.message));
    } else if (frame.type === "problem" && REAUTHENTICATE_CODES.has(String(frame.code))) {
      this.authFailures += 1; // the server closes the socket; the reconnect refreshes the token
    } else if (frame.type === "problem" && frame.code === "unauthorized" && !this.ready) {
      this.authFailures += 1; // the next attempt refreshes the access token first
    } else if (frame.type === "problem" && typeof frame.message_id === "number") {
      this.wanted.delete(frame.message_id); // not found, or not ours: nothing to follow
    } else if (STREAM_EVENT_TYPES.has(frame.type)) {
      const event = frame as unknown as StreamEvent;
      const state = this.options.store.apply(event);
      if (state && isFinal(state.status)) this.wanted.delete(event.message_id);
    }
    this.listeners.forEach((listener) => listener(frame));
  }

  private sendSubscribe(messageId: number): void {
    const lastEventId = this.options.store.get(messageId)?.lastEventId ?? null;
    const frame: Frame = { type: "subscribe", message_id: messageId };
    if (lastEventId) frame.last_event_id = lastEventId;
    this.send(frame);
  }

  private send(frame: Frame): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(frame));
  }
}
