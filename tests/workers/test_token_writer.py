"""TokenWriter on a real Redis: each write in the stream when it returns, in order; and
`Reply.batches`, which hands the job's thread the tokens it writes: the first at once, later ones
gathered for a flush interval."""

from __future__ import annotations

import threading
import time
import uuid

import redis as redis_lib

from app.streams import TokenStreams
from workers.inference.sampling import Sampling
from workers.inference.sequence import Finished, Reply, Request, next_tick
from workers.inference.token_writer import TokenWriter


def make_streams(redis_url: str) -> TokenStreams:
    client = redis_lib.Redis.from_url(redis_url)
    return TokenStreams(client, final_ttl_s=60, live_ttl_s=60, namespace=f"tw{uuid.uuid4().hex}:")


def test_a_write_is_in_the_stream_when_it_returns(redis_url: str) -> None:
    streams = make_streams(redis_url)
    writer = TokenWriter(streams, 1)
    try:
        writer.write(["Hello"])
        events = streams.read(1)  # no wait: the token must already be there
        assert [(e.type, e.data["text"]) for e in events] == [("token", "Hello")]
        writer.write([" wide", " world"])
        events = streams.read(1)
        assert [e.data["text"] for e in events] == ["Hello", " wide", " world"]
    finally:
        writer.close()


def test_a_cancel_flag_set_before_the_first_token_is_seen(redis_url: str) -> None:
    streams = make_streams(redis_url)
    streams.request_cancel(3)
    writer = TokenWriter(streams, 3)
    try:
        writer.write(["x"])
        assert writer.cancelled.wait(2)
    finally:
        writer.close()


def a_reply() -> Reply:
    return Reply(Request([1], [], Sampling(temperature=0.0, top_p=1.0, max_tokens=8, seed=0)))


def test_the_first_piece_comes_at_once_and_later_ones_in_one_batch() -> None:
    reply = a_reply()
    batches = reply.batches(gather_s=0.3)
    time.sleep(next_tick(time.monotonic(), 0.3) - time.monotonic())  # just after a tick
    reply.put("One")
    started = time.monotonic()
    assert next(batches) == ["One"]
    assert time.monotonic() - started < 0.25  # not held for the tick
    pieces = [" two", " three", " four"]

    def engine() -> None:  # the engine's thread puts pieces a step apart
        for piece in pieces:
            time.sleep(0.02)
            reply.put(piece)

    thread = threading.Thread(target=engine)
    thread.start()
    assert next(batches) == pieces  # gathered: the next tick is after the three steps
    assert time.monotonic() >= next_tick(started, 0.3)
    thread.join()
    reply.put(Finished("stop", 4))
    reply.ended.set()
    assert list(batches) == []
    assert (reply.finish_reason, reply.generated_tokens) == ("stop", 4)


def test_the_end_of_a_reply_is_not_held_for_the_interval() -> None:
    reply = a_reply()
    batches = reply.batches(gather_s=30.0)
    reply.put("One")
    assert next(batches) == ["One"]
    reply.put(" two")

    def finish() -> None:
        time.sleep(0.05)
        reply.put(Finished("length", 2))
        reply.ended.set()

    threading.Thread(target=finish).start()
    started = time.monotonic()
    assert list(batches) == [[" two"]]
    assert time.monotonic() - started < 10  # woken by the end, not after 30 s
    assert reply.finish_reason == "length"
