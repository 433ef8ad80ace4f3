"""A stream write that Redis ran but whose reply never came back (Redis killed between the two)
is sent again by the client's retry: it must not reach the stream twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from app.resources import connect_redis
from app.streams import TokenStreams
from testkit.lossy_proxy import LossyProxy
from testkit.wsclient import text_of
from workers.inference.token_writer import TokenWriter


@pytest.fixture()
def proxy(redis_url: str) -> Iterator[LossyProxy]:
    found = LossyProxy(redis_url)
    yield found
    found.close()


def streams_on(url: str) -> TokenStreams:
    """As a worker makes them: a client that retries a command whose connection broke."""
    namespace = f"lost{uuid.uuid4().hex}:"
    return TokenStreams(connect_redis(url), final_ttl_s=60, live_ttl_s=60, namespace=namespace)


def test_a_token_write_whose_reply_was_lost_is_in_the_stream_once(
    proxy: LossyProxy, redis_url: str
) -> None:
    streams = streams_on(proxy.url)
    writer = TokenWriter(streams, 1)
    writer.write(["Once"])
    assert len(streams.read(1)) == 1
    proxy.lose_next_reply(streams.stream_key(1).encode())
    writer.write([" upon"])  # its reply is lost; redis-py sends it again
    assert proxy.lost == 1
    writer.write([" a", " time"])
    writer.close()
    events = [event.data for event in streams.read(1)]
    streams.client.close()
    assert text_of(events) == "Once upon a time"
    assert [event.get("text") for event in events] == ["Once", " upon", " a", " time"]


def test_a_final_event_whose_reply_was_lost_is_in_the_stream_once(
    proxy: LossyProxy, redis_url: str
) -> None:
    streams = streams_on(proxy.url)
    streams.append_tokens(2, ["Hello"])
    proxy.lose_next_reply(streams.stream_key(2).encode())
    streams.append(2, "done", status="done")
    assert proxy.lost == 1
    assert [event.type for event in streams.read(2)] == ["token", "done"]
    streams.append(2, "error", error="a later attempt's final word")  # one final only, ever
    assert [event.type for event in streams.read(2)] == ["token", "done"]
    streams.client.close()
