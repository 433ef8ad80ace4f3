import { FakeSocket, streaming } from "../test/fakes";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A socket following reply `messageId` (none: nothing yet), and the fake connections it opens. */
function setup(messageId?: number, getToken = vi.fn(async (_force?: boolean) => "access-1")) {
  FakeSocket.all = [];
  sessionStorage.clear();
  const { store, socket } = streaming(getToken);
  if (messageId !== undefined) {
    store.track(messageId);
    socket.follow(messageId);
  }
  /** The n-th connection, opened, once it has had the time to send its auth frame. */
  const open = async (n: number, ready = true) => {
    const ws = FakeSocket.all[n];
    ws.open();
    await flush();
    if (ready) ws.deliver({ type: "ready", user_id: 1 });
    return ws;
  };
  return { store, socket, open };
}

describe("StreamSocket", () => {
  it("authenticates with the first frame, then subscribes", async () => {
    const { open } = setup(9);
    const ws = await open(0, false);
    expect(ws.sent[0]).toEqual({ type: "auth", token: "access-1" });
    ws.deliver({ type: "ready", user_id: 1 });
    expect(ws.sent[1]).toEqual({ type: "subscribe", message_id: 9 });
  });

  it("after a dropped connection resubscribes from the last event id: no gap, nothing twice", async () => {
    const { store, socket, open } = setup(9);
    const first = await open(0);
    first.deliver({ type: "token", id: "1-0", message_id: 9, text: "One" });
    first.deliver({ type: "token", id: "1-1", message_id: 9, text: " two" });
    first.close(); // the network dropped

    await flush();
    expect(FakeSocket.all[1]).toBeDefined();
    const second = await open(1);
    expect(second.sent[1]).toEqual({ type: "subscribe", message_id: 9, last_event_id: "1-1" });
    second.deliver({ type: "token", id: "1-1", message_id: 9, text: " two" }); // duplicate
    second.deliver({ type: "token", id: "1-2", message_id: 9, text: " three" });
    second.deliver({ type: "done", id: "1-3", message_id: 9 });
    expect(store.get(9)!.text).toBe("One two three");
    expect(store.get(9)!.status).toBe("done");
    expect(socket.following).toEqual([]);
  });

  it("refreshes the access token when the socket refused it", async () => {
    const { open } = setup(2, vi.fn(async (force?: boolean) => (force ? "fresh" : "stale")));
    const first = await open(0, false);
    first.deliver({ type: "problem", code: "unauthorized", message: "no" });
    first.close();
    await flush();
    const second = await open(1, false);
    expect(second.sent[0]).toEqual({ type: "auth", token: "fresh" });
  });

  it("a login the server ended signs the tab out with its reason, and does not reconnect", async () => {
    FakeSocket.all = [];
    const reasons: string[] = [];
    const { store, socket } = streaming(vi.fn(async () => "access-1"), (reason) => reasons.push(reason));
    store.track(3);
    socket.follow(3);
    const ws = FakeSocket.all[0];
    ws.open();
    await flush();
    ws.deliver({ type: "ready", user_id: 1 });
    ws.deliver({ type: "problem", code: "deactivated", message: "this account was deactivated" });
    ws.close();
    await flush();
    expect(reasons).toEqual(["this account was deactivated"]);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("an expired token reconnects with a refreshed one", async () => {
    const { open } = setup(2, vi.fn(async (force?: boolean) => (force ? "fresh" : "stale")));
    const first = await open(0);
    first.deliver({ type: "problem", code: "token_expired", message: "the access token expired" });
    first.close();
    await flush();
    const second = await open(1, false);
    expect(second.sent[0]).toEqual({ type: "auth", token: "fresh" });
  });

  it("does not reconnect after close(), and stops following a reply it may not see", async () => {
    const { socket, open } = setup(4);
    const ws = await open(0);
    ws.deliver({ type: "problem", code: "not_found", message: "message not found", message_id: 4 });
    expect(socket.following).toEqual([]);
    socket.close();
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("passes document progress frames to listeners", async () => {
    const { socket, open } = setup();
    const frames: unknown[] = [];
    socket.onFrame((frame) => frames.push(frame));
    socket.followDocuments();
    const ws = await open(0);
    expect(ws.sent[1]).toEqual({ type: "subscribe_documents" });
    ws.deliver({ type: "document", document: { id: 1, status: "embedding", progress: 0.5 } });
    expect(frames).toContainEqual({ type: "document", document: { id: 1, status: "embedding", progress: 0.5 } });
  });
});
