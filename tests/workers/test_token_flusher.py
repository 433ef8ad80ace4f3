"""The worker's one token-writing thread on a real Redis (workers/inference/token_flusher.py):
every reply's text reaches its stream whole and in order, the replies of a tick go in one
round trip, a first piece and an end are not held for the tick, a cancel flag comes back
through the pipeline, and a Redis restart leaves no hole in any reply's text."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis as redis_lib

from app.resources import connect_redis
from app.streams import TokenStreams
from testkit.faultstack import RedisServer
from testkit.wsclient import text_of
from workers.inference.sampling import Sampling
from workers.inference.sequence import Finished, Reply, Request, next_tick
from workers.inference.token_flusher import Streamed, TokenFlusher
from workers.inference.token_writer import TokenWriter, run_writes

LONG_S = 60.0  # a tick this far apart: only a first piece or an end may wake the flusher


class CountingRedis(redis_lib.Redis):
    """A real client that records each command it sends (each one round trip): its name, and
    for a script call how many replies it writes (two keys a reply)."""

    sent: list[tuple[str, int]]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0])
        self.sent.append((name, int(args[2]) // 2 if name == "EVALSHA" else 0))
        return super().execute_command(*args, **options)

    def writes(self) -> list[int]:
        """The script calls: how many replies each wrote."""
        return [replies for name, replies in self.sent if name == "EVALSHA"]


def make_streams(client: redis_lib.Redis) -> TokenStreams:
    return TokenStreams(client, final_ttl_s=60, live_ttl_s=60, namespace=f"tf{uuid.uuid4().hex}:")


def stream_reply(flusher: TokenFlusher, streams: TokenStreams, reply_id: int) -> Streamed:
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=99, seed=0)
    writer = TokenWriter(streams, reply_id)
    reply = Reply(Request([1], [], sampling, notify=flusher.wake))
    return flusher.stream(reply, writer)


def finish(streamed: Streamed, tokens: int) -> None:
    streamed.reply.put(Finished("stop", tokens))
    streamed.reply.ended.set()


def texts(streams: TokenStreams, reply_id: int) -> list[str]:
    return [event.data.get("text", event.type) for event in streams.read(reply_id)]


def test_replies_of_a_tick_go_in_one_round_trip_whole_and_in_order(redis_url: str) -> None:
    client = CountingRedis.from_url(redis_url)
    client.sent = []
    streams = make_streams(client)
    interval = 0.2
    flusher = TokenFlusher(interval)
    flusher.start()
    time.sleep(next_tick(time.monotonic(), interval) - time.monotonic())  # just after a tick
    replies = [stream_reply(flusher, streams, reply_id) for reply_id in range(1, 9)]
    for streamed in replies:
        streamed.reply.put("first")
    deadline = time.monotonic() + 10
    while not all(streams.read(reply_id) for reply_id in range(1, 9)):
        assert time.monotonic() < deadline, "the first pieces were not written"
        time.sleep(0.005)
    firsts = len(client.writes())
    time.sleep(next_tick(time.monotonic(), interval) - time.monotonic() + interval / 4)
    for step in range(5):  # the engine's steps: each reply a piece a step, within one tick
        for streamed in replies:
            streamed.reply.put(f" {step}")
    deadline = time.monotonic() + 10
    while not all(texts(streams, reply_id)[-1:] == [" 4"] for reply_id in range(1, 9)):
        assert time.monotonic() < deadline, "the later pieces were not written"
        time.sleep(0.005)
    # a tick's pass writes the 8 replies in one call (two when a slow pass met the steps)
    later = client.writes()[firsts:]
    assert later in ([8], [8, 8]), client.sent
    for streamed in replies:
        finish(streamed, 6)
    for streamed in replies:
        assert streamed.done.wait(10), "a reply's end was not written"
    for reply_id, streamed in enumerate(replies, start=1):
        assert texts(streams, reply_id) == ["first", " 0", " 1", " 2", " 3", " 4"]
        assert streamed.first_at is not None
        assert (streamed.reply.finish_reason, streamed.reply.generated_tokens) == ("stop", 6)
        streamed.writer.close()
    with flusher._lock:
        assert flusher._streamed == []  # the flusher lets go of ended replies


def test_a_first_piece_and_an_end_are_written_at_once_later_ones_at_the_tick(
    redis_url: str,
) -> None:
    streams = make_streams(redis_lib.Redis.from_url(redis_url))
    flusher = TokenFlusher(LONG_S)
    flusher.start()
    while time.monotonic() % LONG_S > LONG_S - 10:  # the next tick is over 10 s away
        time.sleep(0.1)
    streamed = stream_reply(flusher, streams, 1)
    started = time.monotonic()
    streamed.reply.put("One")
    while not streams.read(1):
        assert time.monotonic() - started < 5, "the first piece was held for the tick"
        time.sleep(0.005)
    streamed.reply.put(" two")
    other = stream_reply(flusher, streams, 2)  # its first piece wakes the flusher: for it only
    other.reply.put("Other")
    while not streams.read(2):
        assert time.monotonic() - started < 5, "the other reply's first piece was held"
        time.sleep(0.005)
    time.sleep(0.2)
    assert texts(streams, 1) == ["One"], "a later piece was written before the tick"
    finish(streamed, 2)
    assert streamed.done.wait(5), "the end was held for the tick"
    assert texts(streams, 1) == ["One", " two"]
    finish(other, 1)
    assert other.done.wait(5)
    for writer in (streamed.writer, other.writer):
        writer.close()


def test_a_cancel_flag_comes_back_through_the_pipeline(redis_url: str) -> None:
    streams = make_streams(redis_lib.Redis.from_url(redis_url))
    streams.request_cancel(2)
    flusher = TokenFlusher(0.05)
    flusher.start()
    left, cancelled = stream_reply(flusher, streams, 1), stream_reply(flusher, streams, 2)
    left.reply.put("a")
    cancelled.reply.put("b")
    assert cancelled.writer.cancelled.wait(5)
    assert not left.writer.cancelled.is_set()  # each write's own flag, not the pipeline's
    for streamed in (left, cancelled):
        finish(streamed, 1)
        assert streamed.done.wait(5)
        streamed.writer.close()


def test_pieces_put_while_redis_is_down_reach_every_stream_whole(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    client = connect_redis(server.url)
    try:
        streams = TokenStreams(client, final_ttl_s=60, live_ttl_s=60)
        flusher = TokenFlusher(0.05)
        flusher.start()
        replies = [stream_reply(flusher, streams, reply_id) for reply_id in (1, 2)]
        for streamed in replies:
            streamed.reply.put("One")
        deadline = time.monotonic() + 10
        while not all(streams.read(reply_id) for reply_id in (1, 2)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        server.kill()
        for streamed in replies:
            streamed.reply.put(" two")  # the flusher's pipeline fails once its retries run out
        deadline = time.monotonic() + 30
        while not all(streamed.writer.behind for streamed in replies):
            assert time.monotonic() < deadline, "the failed write left no writer behind"
            time.sleep(0.05)
        server.start()
        for streamed in replies:
            streamed.reply.put(" three")
            finish(streamed, 3)
        closing = [threading.Thread(target=s.writer.close) for s in replies if s.done.wait(30)]
        assert len(closing) == 2
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(40)
        events = {reply_id: [event.data for event in streams.read(reply_id)] for reply_id in (1, 2)}
    finally:
        client.close()
        server.stop()
    for streamed in replies:
        assert not streamed.writer.behind
    for reply_events in events.values():
        assert "reset" in [event["type"] for event in reply_events]
        assert text_of(reply_events) == "One two three"


def test_a_flush_is_one_round_trip_even_after_redis_forgot_the_script(tmp_path: Path) -> None:
    """One script call for every reply, no SCRIPT EXISTS before it (redis-py asks that of a
    pipeline given a script); a Redis that lost its scripts (a restart) gets the script again,
    and the writes it refused run then, whole, with no "reset" (nothing was lost)."""
    server = RedisServer(tmp_path)
    client = CountingRedis.from_url(server.url)
    client.sent = []
    try:
        streams = TokenStreams(client, final_ttl_s=60, live_ttl_s=60)
        writers = [TokenWriter(streams, reply_id) for reply_id in (1, 2, 3)]
        streams.request_cancel(2)
        for words in (["One"], [" two", " three"]):
            client.script_flush()  # as after a restart: the first call meets NOSCRIPT
            client.sent = []
            writes = [writer.prepare(words) for writer in writers]
            results = run_writes([write for write in writes if write is not None])
            assert results == [False, True, False]  # each reply's own cancel flag
            for writer, result in zip(writers, results, strict=True):
                writer.settle(result)
            writes = [writer.prepare(["!"]) for writer in writers]
            assert run_writes([write for write in writes if write is not None])
            sent = [command for command in client.sent if command[0] != "EXISTS"]  # watchers'
            assert sent == [("EVALSHA", 3), ("SCRIPT LOAD", 0), ("EVALSHA", 3), ("EVALSHA", 3)]
        events = {reply_id: [e.data for e in streams.read(reply_id)] for reply_id in (1, 2, 3)}
        for writer in writers:
            writer.close()
    finally:
        client.close()
        server.stop()
    for reply_events in events.values():
        assert [event["type"] for event in reply_events] == ["token"] * 5
        assert text_of(reply_events) == "One! two three!"
