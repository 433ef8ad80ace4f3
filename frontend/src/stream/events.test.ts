import { applyEvent, compareEventIds, initialReply, type StreamEvent } from "./events";

const token = (id: string, text: string): StreamEvent => ({ type: "token", id, message_id: 7, text });

describe("compareEventIds", () => {
  it("orders by milliseconds, then sequence, numerically", () => {
    expect(compareEventIds("1-0", "2-0")).toBeLessThan(0);
    expect(compareEventIds("10-0", "9-5")).toBeGreaterThan(0);
    expect(compareEventIds("5-10", "5-9")).toBeGreaterThan(0);
    expect(compareEventIds("1700000000000-3", "1700000000000-3")).toBe(0);
  });
});

describe("applyEvent", () => {
  it("appends tokens in order and remembers the last id", () => {
    let state = initialReply(7);
    state = applyEvent(state, token("1-0", "Hel"));
    state = applyEvent(state, token("1-1", "lo"));
    expect(state.text).toBe("Hello");
    expect(state.status).toBe("generating");
    expect(state.lastEventId).toBe("1-1");
  });

  it("ignores an event already seen (a duplicate after a resume)", () => {
    let state = applyEvent(initialReply(7), token("1-0", "a"));
    state = applyEvent(state, token("1-1", "b"));
    const again = applyEvent(state, token("1-1", "b"));
    expect(again).toBe(state);
    expect(applyEvent(state, token("1-0", "a"))).toBe(state);
    expect(state.text).toBe("ab");
  });

  it("shows the queue position until the first event, then forgets it", () => {
    let state = applyEvent(initialReply(7), { type: "queued", message_id: 7, position: 3 });
    expect(state.queuePosition).toBe(3);
    state = applyEvent(state, { type: "queued", message_id: 7, position: 2 });
    expect(state.queuePosition).toBe(2);
    state = applyEvent(state, token("1-0", "Hi"));
    expect(state.queuePosition).toBeNull();
    expect(applyEvent(state, { type: "queued", message_id: 7, position: 1 })).toBe(state);
  });

  it("drops the text so far on reset (a redelivered job starts over)", () => {
    let state = applyEvent(initialReply(7), token("1-0", "first try"));
    state = applyEvent(state, { type: "reset", id: "2-0", message_id: 7 });
    expect(state.text).toBe("");
    state = applyEvent(state, token("2-1", "second"));
    expect(state.text).toBe("second");
  });

  it("keeps why the reply ended (a spent token budget shows a notice)", () => {
    const state = applyEvent(applyEvent(initialReply(7), token("1-0", "Hel")), {
      type: "done",
      id: "1-1",
      message_id: 7,
      finish_reason: "budget",
    });
    expect(state.status).toBe("done");
    expect(state.finishReason).toBe("budget");
    expect(initialReply(8).finishReason).toBeNull();
  });

  it("takes done with its stats and citations, then ignores anything later", () => {
    let state = applyEvent(initialReply(7), token("1-0", "x"));
    const citation = { document_id: 1, title: "Doc", page: 2, heading: null, chunk_index: 0, snippet: "s", score: 0.5 };
    state = applyEvent(state, {
      type: "done",
      id: "1-1",
      message_id: 7,
      completion_tokens: 1,
      tokens_per_second: 9,
      citations: [citation],
    } as StreamEvent);
    expect(state.status).toBe("done");
    expect(state.citations).toEqual([citation]);
    expect(state.stats?.completion_tokens).toBe(1);
    expect(applyEvent(state, token("1-2", "late"))).toBe(state);
  });

  it("marks cancelled and error", () => {
    const base = applyEvent(initialReply(7), token("1-0", "part"));
    expect(applyEvent(base, { type: "cancelled", id: "1-1", message_id: 7 }).status).toBe("cancelled");
    const failed = applyEvent(base, { type: "error", id: "1-1", message_id: 7, error: "model crashed" });
    expect(failed.status).toBe("error");
    expect(failed.error).toBe("model crashed");
    expect(failed.text).toBe("part");
  });

  it("takes the stored message when the stream expired", () => {
    const state = applyEvent(initialReply(7), {
      type: "message",
      message_id: 7,
      message: { id: 7, content: "stored reply", status: "done", error: null, citations: [] },
    } as unknown as StreamEvent);
    expect(state.text).toBe("stored reply");
    expect(state.status).toBe("done");
  });
});
