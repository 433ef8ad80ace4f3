import { useState, type ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { ApiClient } from "../api/client";
import { ApiProvider } from "../api/context";
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

export type Route = (
  method: string,
  url: string,
  body: unknown,
  authorization: string | null,
) => [number, unknown] | [number, unknown, Record<string, string>] | undefined;

const NOT_FOUND: [number, unknown] = [404, { error: { code: "not_found", message: "not found" } }];

/** A JWT-shaped token that expires in `expInSeconds`. */
export function jwt(expInSeconds = 3600): string {
  return `x.${btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expInSeconds }))}.y`;
}

function parsed(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** An ApiClient whose fetch answers from a route function, recording each request (url: path and query). */
export function fakeClient(route: Route, storage: Storage = localStorage) {
  const requests: { method: string; url: string; body: unknown; authorization: string | null }[] = [];
  const fetchImpl = async (request: Request) => {
    const { pathname, search } = new URL(request.url);
    const sent = {
      method: request.method,
      url: pathname + search,
      body: parsed(await request.text()),
      authorization: request.headers.get("Authorization"),
    };
    requests.push(sent);
    const [status, payload, headers] = route(sent.method, sent.url, sent.body, sent.authorization) ?? NOT_FOUND;
    return new Response(status === 204 ? null : JSON.stringify(payload), { status, headers });
  };
  const client = new ApiClient(storage, fetchImpl, "http://test");
  return { client, requests };
}

/** A reply store and a socket over FakeSockets, reconnecting at once. */
export function streaming(
  getToken: (forceRefresh?: boolean) => Promise<string | null>,
  onSignedOut?: (reason: string) => void,
) {
  const store = new ReplyStore(sessionStorage);
  const socket = new StreamSocket({
    url: "ws://test/ws",
    store,
    getToken,
    onSignedOut,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    retryDelaysMs: [0],
  });
  return { store, socket };
}

export function Providers({ client, children, path = "/" }: { client: ApiClient; children: ReactNode; path?: string }) {
  const [value] = useState(() => streaming((force) => client.accessToken(force)));
  return (
    <ApiProvider client={client}>
      <AuthProvider>
        <StreamingProvider value={value}>
          <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
        </StreamingProvider>
      </AuthProvider>
    </ApiProvider>
  );
}
