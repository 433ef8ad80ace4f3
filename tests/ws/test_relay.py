"""The process's one stream reader on a real Redis: every subscriber hears each event once, in
order, from its own last id (backlog first, then live), whenever it joins."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask

from app.enums import MessageRole, MessageStatus
from app.models import ChatSession, Message, User, utcnow
from app.streams import TokenStreams
from app.ws.relay import GATHER_MAX_S, GATHER_MIN_S, STALL_S, StreamHub, gather_window

_ids = iter(range(1, 1_000_000))


class Collector:
    """Stands in for a socket: keeps the frames the reader pushes."""

    def __init__(self) -> None:
        self.id = next(_ids)
        self.subscriptions: set[int] = set()
        self.frames: list[dict[str, Any]] = []
        self.arrived = threading.Event()

    def push(self, payload: dict[str, Any] | str) -> None:
        self.frames.append(json.loads(payload) if isinstance(payload, str) else payload)
        self.arrived.set()

    def deliver(self, data: bytes) -> None:
        """Whole text frames, one after another (a read's frames for one socket, joined)."""
        while data:
            assert data[0] == 0x81  # a whole, unmasked text frame
            size, start = data[1], 2
            if size >= 126:
                width = 2 if size == 126 else 8
                size, start = int.from_bytes(data[2 : 2 + width], "big"), 2 + width
            self.push(data[start : start + size].decode())
            data = data[start + size :]

    def problem(self, code: str, message: str, message_id: int | None = None) -> None:
        self.push({"type": "problem", "code": code, "message_id": message_id})

    def wait_final(self, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.frames and self.frames[-1]["type"] in {"done", "message", "problem"}:
                return self.frames
            self.arrived.wait(0.05)
            self.arrived.clear()
        raise AssertionError(f"no final frame: {self.frames}")


@pytest.fixture()
def hub(app: Flask) -> Iterator[StreamHub]:
    services = app.extensions["queuechat"]
    reader = TokenStreams.for_settings(
        redis_lib.Redis.from_url(services.settings.redis_url), services.settings
    )
    found = StreamHub(services.streams, reader, services.db, services.settings)
    thread = threading.Thread(target=found.run, daemon=True)
    thread.start()
    yield found
    found.stopped.set()
    found.wake()
    thread.join(10)


def unused_message_id() -> int:
    return 900_000_000 + int(time.time() * 1000) % 1_000_000  # no such row: no database use


def test_each_subscriber_resumes_from_its_own_id_with_no_gap_or_duplicate(
    app: Flask, hub: StreamHub
) -> None:
    streams = app.extensions["queuechat"].streams
    message_id = unused_message_id()
    ids = [streams.append(message_id, "token", text=f"t{n}") for n in range(5)]
    fresh, resumed, live = Collector(), Collector(), Collector()
    hub.subscribe(fresh, message_id, None)  # type: ignore[arg-type]
    hub.subscribe(resumed, message_id, ids[2])  # type: ignore[arg-type]
    for n in range(5, 8):
        streams.append(message_id, "token", text=f"t{n}")
    late = Collector()
    hub.subscribe(late, message_id, ids[0])  # type: ignore[arg-type]
    hub.subscribe(live, message_id, ids[4])  # type: ignore[arg-type]
    streams.append(message_id, "done", status="done")
    expected = [f"t{n}" for n in range(8)]
    for collector, first in ((fresh, 0), (resumed, 3), (late, 1), (live, 5)):
        frames = collector.wait_final()
        assert [f.get("text") for f in frames[:-1]] == expected[first:], frames
        assert frames[-1]["type"] == "done"
        assert all(f["message_id"] == message_id for f in frames)
        assert collector.subscriptions == set()  # the final event ends the subscription
    assert hub.topics == {}  # no subscriber left anywhere


def test_a_reply_without_a_stream_or_row_is_not_found(hub: StreamHub) -> None:
    watcher = Collector()
    message_id = unused_message_id()
    hub.subscribe(watcher, message_id, None)  # type: ignore[arg-type]
    hub.check_waiting()
    time.sleep(0.3)  # past the first-events wait
    hub.check_waiting()
    frames = watcher.wait_final()
    assert frames == [{"type": "problem", "code": "not_found", "message_id": message_id}]


def test_reconnects_at_random_points_miss_nothing_and_repeat_nothing(
    app: Flask, hub: StreamHub
) -> None:
    """100 runs: a reply streams while one socket follows it, drops at a random event and a new
    one resumes from the last id it saw; together they see every event exactly once."""
    import random

    streams = app.extensions["queuechat"].streams
    rng = random.Random(15)
    for run in range(100):
        message_id = unused_message_id() * 1000 + run
        total = rng.randint(5, 40)
        cut = rng.randint(1, total)
        writer = threading.Thread(target=write_reply, args=(streams, message_id, total))
        first = Collector()
        hub.subscribe(first, message_id, None)  # type: ignore[arg-type]
        writer.start()
        deadline = time.monotonic() + 10
        while len(first.frames) < cut and time.monotonic() < deadline:
            first.arrived.wait(0.05)
            first.arrived.clear()
        hub.forget(first)  # type: ignore[arg-type]
        seen = list(first.frames)  # what the client had when the socket dropped
        if seen[-1]["type"] != "done":  # a client that saw the end does not come back
            resumed = Collector()
            hub.subscribe(resumed, message_id, seen[-1]["id"])  # type: ignore[arg-type]
            seen += resumed.wait_final()
        writer.join()
        texts = [frame.get("text") for frame in seen]
        assert texts == [f"t{n}" for n in range(total)] + [None], (run, cut, texts)
        assert len({frame["id"] for frame in seen}) == len(seen)
    assert hub.topics == {}  # no subscriber left anywhere


def write_reply(streams: TokenStreams, message_id: int, total: int) -> None:
    for n in range(total):
        streams.append(message_id, "token", text=f"t{n}")
        time.sleep(0.001)
    streams.append(message_id, "done", status="done")


def test_a_reply_whose_final_event_never_comes_gets_its_stored_row(
    app: Flask, hub: StreamHub
) -> None:
    """Tokens came, then the stream was lost (Redis restarted without it) after the worker
    stored the final row: once the reply has been quiet for STALL_S, the subscriber gets the
    stored message instead of waiting for ever."""
    services = app.extensions["queuechat"]
    with services.db.session() as session:
        user = User(username=f"stall{uuid.uuid4().hex[:8]}", password_hash="unused")
        chat = ChatSession(owner=user, title="stalled")
        reply = Message(session=chat, role=MessageRole.ASSISTANT, status=MessageStatus.GENERATING)
        session.add_all([user, chat, reply])
        session.flush()
        message_id = reply.id
    services.streams.append(message_id, "token", text="Hel")
    watcher = Collector()
    hub.subscribe(watcher, message_id, None)  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while not watcher.frames and time.monotonic() < deadline:
        watcher.arrived.wait(0.05)
    assert [f.get("text") for f in watcher.frames] == ["Hel"]
    hub.check_waiting()  # quiet, but not for long: still generating, nothing sent
    assert len(watcher.frames) == 1
    services.streams.client.delete(services.streams.stream_key(message_id))
    with services.db.session() as session:
        row = session.get(Message, message_id)
        assert row is not None
        row.content, row.status, row.completed_at = "Hello.", MessageStatus.DONE, utcnow()
    hub.topics[message_id].last_event_at -= STALL_S  # the clock, moved on (the narrow fake)
    hub.check_waiting()
    frames = watcher.wait_final()
    assert frames[-1]["type"] == "message", frames
    assert frames[-1]["message"]["content"] == "Hello."
    assert frames[-1]["message"]["status"] == "done"
    assert watcher.subscriptions == set()


def test_a_read_gathers_a_burst_when_two_replies_stream_however_few_the_sockets() -> None:
    """A worker's replies write in the same few hundred microseconds: with two streaming, a read
    waits at least GATHER_MIN_S for the others (ending early when they come), so a handful of
    sockets costs one read a burst; one reply alone, or none, is never waited for below it."""
    assert gather_window(4, 2) == GATHER_MIN_S
    assert gather_window(8, 8) == GATHER_MIN_S
    assert gather_window(4, 1) == 0.0 and gather_window(4, 0) == 0.0
    assert gather_window(2000, 1) == GATHER_MAX_S and gather_window(10_000, 8) == GATHER_MAX_S
    assert GATHER_MIN_S < gather_window(400, 1) < GATHER_MAX_S
