import type { ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { ApiClient } from "../api/client";
import { AuthProvider } from "../auth";
import { StreamingProvider } from "../streaming";
import { ReplyStore } from "../stream/replyStore";
import { StreamSocket } from "../stream/socket";

export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  deliver(frame: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

export type Route = (method: string, url: string, body: unknown) => [number, unknown] | undefined;

/** An ApiClient whose fetch answers from a route function, recording each request. */
export function fakeClient(route: Route) {
  const requests: { method: string; url: string; body: unknown }[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const url = String(input);
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : init?.body;
    requests.push({ method, url, body });
    const [status, payload] = route(method, url, body) ?? [404, { error: { code: "not_found", message: "not found" } }];
    return new Response(status === 204 ? null : JSON.stringify(payload), { status });
  };
  const client = new ApiClient(localStorage, fetchImpl as typeof fetch);
  return { client, requests };
}

export function streaming(client: ApiClient) {
  const store = new ReplyStore(sessionStorage);
  const socket = new StreamSocket({
    url: "ws://test/ws",
    store,
    getToken: (force) => client.accessToken(force),
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    retryDelaysMs: [0],
  });
  return { store, socket };
}

export function Providers({ client, children, path = "/" }: { client: ApiClient; children: ReactNode; path?: string }) {
  const value = streaming(client);
  return (
    <AuthProvider client={client}>
      <StreamingProvider value={value}>
        <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
      </StreamingProvider>
    </AuthProvider>
  );
}
