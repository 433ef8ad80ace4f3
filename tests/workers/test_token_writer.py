"""TokenWriter on a real Redis: the first token synchronously, later ones batched, in order."""

from __future__ import annotations

import uuid

import redis as redis_lib

from app.streams import TokenStreams
from workers.inference.token_writer import TokenWriter


def make_streams(redis_url: str) -> TokenStreams:
    client = redis_lib.Redis.from_url(redis_url)
    return TokenStreams(client, final_ttl_s=60, live_ttl_s=60, namespace=f"tw{uuid.uuid4().hex}:")


def test_first_token_is_in_the_stream_when_put_returns(redis_url: str) -> None:
    streams = make_streams(redis_url)
    writer = TokenWriter(streams, 1, flush_interval_s=10.0)
    try:
        writer.put("Hello")
        events = streams.read(1)  # no wait: the first token must already be there
        assert [(e.type, e.data["text"]) for e in events] == [("token", "Hello")]
    finally:
        writer.close()


def test_later_tokens_follow_in_order_and_close_flushes_them(redis_url: str) -> None:
    streams = make_streams(redis_url)
    writer = TokenWriter(streams, 2, flush_interval_s=0.05)
    pieces = ["One", " two", " three", " four", " five"]
    for piece in pieces:
        writer.put(piece)
    writer.close()
    events = streams.read(2)
    assert "".join(e.data["text"] for e in events) == "One two three four five"
    assert events[0].data["text"] == "One"  # written alone, before the batch
    assert len(events) == len(pieces)


def test_a_cancel_flag_set_before_the_first_token_is_seen(redis_url: str) -> None:
    streams = make_streams(redis_url)
    streams.request_cancel(3)
    writer = TokenWriter(streams, 3, flush_interval_s=0.05)
    try:
        writer.put("x")
        assert writer.cancelled.wait(2)
    finally:
        writer.close()
