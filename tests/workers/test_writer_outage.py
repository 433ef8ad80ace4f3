"""TokenWriter while Redis restarts (kill -9, then started again on its port): generation goes
on, the client's text comes out whole, and a cancel sent afterwards is still heard."""

from __future__ import annotations

from pathlib import Path

from app.resources import connect_redis
from app.streams import TokenStreams
from testkit.faultstack import RedisServer
from testkit.wsclient import text_of
from workers.inference.token_writer import TokenWriter


def test_tokens_put_while_redis_is_down_reach_the_stream_whole(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    client = connect_redis(server.url)
    try:
        streams = TokenStreams(client, final_ttl_s=60, live_ttl_s=60)
        writer = TokenWriter(streams, 1)
        writer.write(["One"])
        server.kill()
        writer.write([" two"])  # fails once the client's retries run out
        assert writer.behind
        server.start()
        writer.write([" three"])
        writer.close()
        events = [event.data for event in streams.read(1)]
    finally:
        client.close()
        server.stop()
    assert not writer.behind
    assert "reset" in [event["type"] for event in events]
    assert text_of(events) == "One two three"


def test_a_cancel_sent_after_redis_came_back_is_heard(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    client = connect_redis(server.url)
    try:
        streams = TokenStreams(client, final_ttl_s=60, live_ttl_s=60)
        writer = TokenWriter(streams, 2)
        writer.write(["One"])
        server.kill()
        writer.write([" two"])
        assert writer.behind
        server.start()
        streams.request_cancel(2)
        writer.write([" three"])  # generation goes on until the flag is seen
        heard = writer.cancelled.wait(10)
        writer.close()
    finally:
        client.close()
        server.stop()
    assert heard
