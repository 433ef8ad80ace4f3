import { ReplyStore } from "./replyStore";

describe("ReplyStore", () => {
  beforeEach(() => sessionStorage.clear());

  it("keeps each reply's text and last id in sessionStorage while it streams", () => {
    const store = new ReplyStore(sessionStorage);
    store.track(3);
    store.apply({ type: "token", id: "5-0", message_id: 3, text: "Hi" });
    store.apply({ type: "token", id: "5-1", message_id: 3, text: " there" });
    expect(JSON.parse(sessionStorage.getItem("qc.reply.3")!)).toEqual({
      text: "Hi there",
      lastEventId: "5-1",
      status: "generating",
    });
  });

  it("resumes after a reload from the snapshot, without repeating text", () => {
    const before = new ReplyStore(sessionStorage);
    before.track(3);
    before.apply({ type: "token", id: "5-0", message_id: 3, text: "Hi" });
    before.apply({ type: "token", id: "5-1", message_id: 3, text: " there" });

    const after = new ReplyStore(sessionStorage); // a new page
    const restored = after.track(3, "generating");
    expect(restored.text).toBe("Hi there");
    expect(restored.lastEventId).toBe("5-1");
    // the relay may resend the boundary event: it is dropped
    after.apply({ type: "token", id: "5-1", message_id: 3, text: " there" });
    after.apply({ type: "token", id: "5-2", message_id: 3, text: "!" });
    expect(after.get(3)!.text).toBe("Hi there!");
  });

  it("forgets the snapshot once the reply is final, and notifies listeners", () => {
    const store = new ReplyStore(sessionStorage);
    const seen: string[] = [];
    store.subscribe((state) => seen.push(state.status));
    store.track(4);
    store.apply({ type: "token", id: "1-0", message_id: 4, text: "a" });
    store.apply({ type: "done", id: "1-1", message_id: 4 });
    expect(sessionStorage.getItem("qc.reply.4")).toBeNull();
    expect(seen).toEqual(["generating", "done"]);
  });

  it("ignores events for replies it does not follow, and a corrupt snapshot", () => {
    const store = new ReplyStore(sessionStorage);
    expect(store.apply({ type: "token", id: "1-0", message_id: 99, text: "x" })).toBeUndefined();
    sessionStorage.setItem("qc.reply.5", "{not json");
    expect(store.track(5).text).toBe("");
    expect(sessionStorage.getItem("qc.reply.5")).toBeNull();
  });
});
