import { ReplyStore } from "./replyStore";
import { StreamSocket } from "./socket";
import { FakeSocket } from "../test/fakes";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(getToken = vi.fn(async () => "access-1")) {
  FakeSocket.all = [];
  sessionStorage.clear();
  const store = new ReplyStore(sessionStorage);
  const socket = new StreamSocket({
    url: "ws://test/ws",
    store,
    getToken,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    retryDelaysMs: [0],
  });
  return { store, socket, getToken };
}

describe("StreamSocket", () => {
  it("authenticates with the first frame, then subscribes", async () => {
    const { store, socket } = setup();
    store.track(9);
    socket.follow(9);
    const ws = FakeSocket.all[0];
    ws.open();
    await flush();
    expect(ws.sent[0]).toEqual({ type: "auth", token: "access-1" });
    ws.deliver({ type: "ready", user_id: 1 });
    expect(ws.sent[1]).toEqual({ type: "subscribe", message_id: 9 });
  });

  it("after a dropped connection resubscribes from the last event id: no gap, nothing twice", async () => {
    const { store, socket } = setup();
    store.track(9);
    socket.follow(9);
    const first = FakeSocket.all[0];
    first.open();
    await flush();
    first.deliver({ type: "ready", user_id: 1 });
    first.deliver({ type: "token", id: "1-0", message_id: 9, text: "One" });
    first.deliver({ type: "token", id: "1-1", message_id: 9, text: " two" });
    first.close(); // the network dropped

    await flush();
    const second = FakeSocket.all[1];
    expect(second).toBeDefined();
    second.open();
    await flush();
    second.deliver({ type: "ready", user_id: 1 });
    expect(second.sent[1]).toEqual({ type: "subscribe", message_id: 9, last_event_id: "1-1" });
    second.deliver({ type: "token", id: "1-1", message_id: 9, text: " two" }); // duplicate
    second.deliver({ type: "token", id: "1-2", message_id: 9, text: " three" });
    second.deliver({ type: "done", id: "1-3", message_id: 9 });
    expect(store.get(9)!.text).toBe("One two three");
    expect(store.get(9)!.status).toBe("done");
    expect(socket.following).toEqual([]);
  });

  it("refreshes the access token when the socket refused it", async () => {
    const getToken = vi.fn(async (force?: boolean) => (force ? "fresh" : "stale"));
    const { store, socket } = setup(getToken);
    store.track(2);
    socket.follow(2);
    const first = FakeSocket.all[0];
    first.open();
    await flush();
    first.deliver({ type: "problem", code: "unauthorized", message: "no" });
    first.close();
    await flush();
    const second = FakeSocket.all[1];
    second.open();
    await flush();
    expect(second.sent[0]).toEqual({ type: "auth", token: "fresh" });
  });

  it("does not reconnect after close(), and stops following a reply it may not see", async () => {
    const { store, socket } = setup();
    store.track(4);
    socket.follow(4);
    const ws = FakeSocket.all[0];
    ws.open();
    await flush();
    ws.deliver({ type: "ready", user_id: 1 });
    ws.deliver({ type: "problem", code: "not_found", message: "message not found", message_id: 4 });
    expect(socket.following).toEqual([]);
    socket.close();
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("passes document progress frames to listeners", async () => {
    const { socket } = setup();
    const frames: unknown[] = [];
    socket.onFrame((frame) => frames.push(frame));
    socket.followDocuments();
    const ws = FakeSocket.all[0];
    ws.open();
    await flush();
    ws.deliver({ type: "ready", user_id: 1 });
    expect(ws.sent[1]).toEqual({ type: "subscribe_documents" });
    ws.deliver({ type: "document", document: { id: 1, status: "embedding", progress: 0.5 } });
    expect(frames).toContainEqual({ type: "document", document: { id: 1, status: "embedding", progress: 0.5 } });
  });
});
