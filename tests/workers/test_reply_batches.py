"""A reply's pieces reach its job's thread in batches, one wake-up of that thread a batch
(workers/inference/sequence.py: the engine puts pieces, the job writes each batch to Redis)."""

from __future__ import annotations

import threading
import time

from workers.inference.sampling import Sampling
from workers.inference.sequence import Finished, Reply, Request

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
