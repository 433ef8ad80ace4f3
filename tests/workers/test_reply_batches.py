"""A reply's pieces reach its job's thread in batches, one wake-up of that thread a batch
(workers/inference/sequence.py: the engine puts pieces, the job writes each batch to Redis)."""

from __future__ import annotations

import math
import threading
import time

from workers.inference.sampling import Sampling
from workers.inference.sequence import Finished, Reply, Request, next_tick

INTERVAL_S = 60.0  # far longer than the test: only the reply's end may cut it short


def test_pieces_wait_out_the_interval_in_the_queue_and_the_end_wakes_the_consumer() -> None:
    reply = Reply(Request([1], [], Sampling(max_tokens=8, temperature=0.0, top_p=1.0)))
    for piece in ("a", "b", "c"):
        reply.put(piece)
    batches: list[list[str]] = []
    first = threading.Event()

    def consume() -> None:
        for batch in reply.batches(INTERVAL_S):
            batches.append(batch)
            first.set()

    while time.monotonic() % INTERVAL_S > INTERVAL_S - 5:  # the next tick is over 5 s away
        time.sleep(0.1)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    assert first.wait(10), "the first batch waited: it goes at once"
    assert batches == [["a", "b", "c"]]
    reply.put("d")
    # the consumer sleeps through the interval instead of waking for the first piece after a
    # batch and then sleeping again: the piece stays queued
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        assert reply._pieces.qsize() == 1, "the consumer woke for a piece within its interval"
        time.sleep(0.01)
    reply.put("e")
    reply.put(Finished("stop", 5))
    reply.ended.set()
    consumer.join(10)
    assert not consumer.is_alive(), "the reply's end did not wake the consumer"
    assert batches == [["a", "b", "c"], ["d", "e"]]
    assert (reply.finish_reason, reply.generated_tokens) == ("stop", 5)


def test_replies_started_apart_take_their_later_batches_at_the_same_ticks() -> None:
    """Two replies whose first pieces came a third of an interval apart, each fed a piece every
    20 ms: after their first batches, both take theirs on the shared clock's ticks (so a
    worker's replies write together and a web process reads them in one pass)."""
    interval = 0.3
    taken: dict[str, list[float]] = {"a": [], "b": []}
    sampling = Sampling(max_tokens=99, temperature=0.0, top_p=1.0)
    replies = {name: Reply(Request([1], [], sampling)) for name in taken}

    def feed(reply: Reply, pieces: int) -> None:
        for _ in range(pieces):
            reply.put("x")
            time.sleep(0.02)
        reply.put(Finished("length", pieces))
        reply.ended.set()

    def consume(name: str) -> None:
        for _batch in replies[name].batches(interval):
            taken[name].append(time.monotonic())

    time.sleep(next_tick(time.monotonic(), interval) - time.monotonic())  # just after a tick
    threads = [threading.Thread(target=consume, args=(name,)) for name in taken]
    threads += [threading.Thread(target=feed, args=(replies["a"], 60))]
    for thread in threads:
        thread.start()
    time.sleep(interval / 3)
    threads.append(threading.Thread(target=feed, args=(replies["b"], 50)))
    threads[-1].start()
    for thread in threads:
        thread.join(30)
    later = {name: times[1:-1] for name, times in taken.items()}  # the end wakes at once
    assert len(later["a"]) >= 3 and len(later["b"]) >= 3, taken
    for times in later.values():
        # each taken within a third of an interval after a tick (a sleeping thread's wake-up)
        assert all(t % interval < interval / 3 for t in times), [t % interval for t in times]
    ticks = {name: [math.floor(t / interval) for t in times] for name, times in later.items()}
    assert ticks["b"] == ticks["a"][: len(ticks["b"])], ticks  # the same ticks, from the first
    assert math.isclose(next_tick(0.95, 0.3), 1.2) and next_tick(5.0, 0.0) == 5.0
