"""One Redis reader per web process: one XREAD over the streams of every subscribed reply, fanned
out to each subscriber from its own last event id; and one periodic database pass for the replies
without a stream yet (queue positions) or any more (the stored message)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.enums import FINAL_STATUSES, MessageStatus
from app.models import Message
from app.redis_keys import ws_wake_key
from app.schemas.messages import MessageOut
from app.services.fair_share import queued_reply_order
from app.streams import StreamEvent, TokenStreams, event_order
from app.ws.connection import Connection, text_frame
from app.ws.slices import Slice, slice_after

logger = logging.getLogger(__name__)
BLOCK_MS = 5000  # the reader blocks this long; a new subscription wakes it at once
READ_COUNT = 1000  # entries per stream per read: a long backlog comes in several reads
FIRST_WAIT_S = 0.25  # a reply's first events are awaited this long before the database pass
STALL_S = 10.0  # a reply silent this long is looked up: its final may never come (lost stream)
WAKE_TTL_S, YIELD_EVERY = 86400, 100  # YIELD_EVERY: sockets served between two yields
# A read's events go out in one pass (a write per socket); other replies' events that come within
# 2.5 us per subscription (5 ms at most; 0.5 ms at least when two replies or more are streaming,
# else none under 0.5 ms) join it: a burst costs one pass. A worker's replies write in the same
# few hundred microseconds (on the same flush tick, or the same engine step), so a few sockets
# on them cost one read a burst, not one a reply. It is over early once each reply with events
# in the last second (an engine step writes to each) has brought its own, or wrote just before
# (the previous read had it: STREAM_FLUSH_MS / 2).
GATHER_MIN_S, GATHER_MAX_S, GATHER_PER_SUBSCRIPTION_S = 0.0005, 0.005, 2.5e-6


def gather_window(subscriptions: int, streaming: int) -> float:
    """How long a read that found events waits for other replies' (0: it does not)."""
    gather = min(GATHER_MAX_S, subscriptions * GATHER_PER_SUBSCRIPTION_S)
    if streaming > 1:
        return max(gather, GATHER_MIN_S)
    return gather if gather >= GATHER_MIN_S else 0.0


@dataclass
class Subscriber:
    connection: Connection
    position: str  # the last event id it was sent ("0-0": none yet)
    announced_position: int | None = None
    order: tuple[int, int] = (0, 0)  # event_order(position), kept alongside it

    def __post_init__(self) -> None:
        self.order = event_order(self.position)


Deliveries = dict[int, tuple[Connection, list[bytes]]]  # by connection id: what it gets
Positions = dict[int, int]  # a queued reply's place in its model's line


@dataclass
class Topic:
    """A reply's stream and the sockets that follow it."""

    message_id: int
    subscribers: dict[int, Subscriber] = field(default_factory=dict)
    last_event_at: float = field(default_factory=time.monotonic)
    live: bool = False  # events came from its stream: no database pass needed any more
    # where the next read starts: no later than any subscriber's position (lowered on each
    # subscribe, set to the lowest after each delivery; one left behind costs one re-read)
    cursor: tuple[str, tuple[int, int]] = ("0-0", (0, 0))


class StreamHub:
    def __init__(
        self, streams: TokenStreams, reader: TokenStreams, db: Database, settings: Settings
    ) -> None:
        """``streams`` on the shared pool; ``reader`` on a client of its own (it blocks)."""
        self.streams = streams
        # of replies stored without one (queue positions count per model)
        self.default_model = settings.model_names[0]
        # a reply writes at most every STREAM_FLUSH_MS: one that wrote within half of it is
        # not waited for by a gathering read
        self.written_ms = settings.stream_flush_ms // 2
        self.reader = reader
        self.db = db
        self.topics: dict[int, Topic] = {}
        self.lock = threading.Lock()
        self.wake_key = ws_wake_key(uuid.uuid4().hex)
        self.wake_position = "0-0"
        self.wake_pending = False  # a wake-up is on its way: later subscribes need none
        self.stopped = threading.Event()

    def subscribe(self, connection: Connection, message_id: int, after: str | None) -> None:
        """Follows the reply from ``after`` (its beginning when None): backlog, then live."""
        with self.lock:
            subscriber = Subscriber(connection, after or "0-0")
            topic = self.topics.get(message_id)
            if topic is None:
                topic = self.topics[message_id] = Topic(message_id)
                topic.cursor = (subscriber.position, subscriber.order)
            elif subscriber.order < topic.cursor[1]:
                topic.cursor = (subscriber.position, subscriber.order)
            topic.subscribers[connection.id] = subscriber
            connection.subscriptions.add(message_id)
            if self.wake_pending:
                return  # the reader has not built its next read yet: it will include this one
            self.wake_pending = True
        self.wake()

    def unsubscribe(self, connection: Connection, message_id: int) -> None:
        with self.lock:
            self._drop(connection, message_id)

    def forget(self, connection: Connection) -> None:
        with self.lock:
            for message_id in list(connection.subscriptions):
                self._drop(connection, message_id)

    def wake(self) -> None:
        pipe = self.streams.client.pipeline(transaction=False)
        pipe.xadd(self.wake_key, {"w": "1"}, maxlen=8, approximate=False)
        pipe.expire(self.wake_key, WAKE_TTL_S)
        pipe.execute()

    def run(self) -> None:
        """The reader thread's loop."""
        while not self.stopped.is_set():
            try:
                self.read_once()
            except redis.RedisError as exc:
                logger.warning("stream reader: %s; retrying", exc)
                self.stopped.wait(1)
            except Exception:
                logger.exception("stream reader failed; retrying")
                self.stopped.wait(1)

    def read_once(self) -> None:
        with self.lock:
            self.wake_pending = False
            after = {mid: topic.cursor[0] for mid, topic in self.topics.items()}
            now, topics = time.monotonic(), self.topics.values()
            streaming = [t.message_id for t in topics if t.live and now - t.last_event_at < 1.0]
            subscriptions = sum(map(len, (t.subscribers for t in topics)))
        found, woken = self.reader.read_many(
            after, block_ms=BLOCK_MS, count=READ_COUNT, wake=(self.wake_key, self.wake_position),
            gather_s=gather_window(subscriptions, len(streaming)), expect=streaming,
            written_ms=self.written_ms,
        )  # fmt: skip
        self.wake_position = woken or self.wake_position
        if not found:
            return
        deliveries: Deliveries = {}
        with self.lock:
            for message_id, events in found.items():
                topic = self.topics.get(message_id)
                if topic is not None:
                    self._deliver(topic, after[message_id], events, deliveries)
        # one write per socket for all this read brought it, outside the lock, yielding now and
        # then: a burst for a thousand sockets must not hold up the requests served meanwhile
        for count, (connection, chunks) in enumerate(deliveries.values(), 1):
            connection.deliver(chunks[0] if len(chunks) == 1 else b"".join(chunks))
            if count % YIELD_EVERY == 0:
                time.sleep(0)

    def _deliver(
        self, topic: Topic, read_from: str, events: list[StreamEvent], deliveries: Deliveries
    ) -> None:
        """Advances each subscriber past the events it had not seen and adds their bytes to
        its delivery; subscribers at the same position (nearly all) share one slice."""
        topic.last_event_at = time.monotonic()
        topic.live = True
        start = event_order(read_from)
        orders = [event_order(event.id) for event in events]
        frames = [text_frame(event.as_frame(topic.message_id)) for event in events]
        slices: dict[tuple[int, int], Slice | None] = {}
        lowest = (events[-1].id, orders[-1])
        ended: list[Connection] = []
        for subscriber in topic.subscribers.values():
            if subscriber.order < start:  # joined behind this read: its backlog read comes next
                if subscriber.order < lowest[1]:
                    lowest = (subscriber.position, subscriber.order)
                continue
            at = subscriber.order
            cut = slices[at] if at in slices else slice_after(events, orders, frames, at)
            slices[at] = cut
            if cut is None:
                if subscriber.order < lowest[1]:
                    lowest = (subscriber.position, subscriber.order)
                continue
            connection = subscriber.connection
            found = deliveries.get(connection.id)
            if found is None:
                deliveries[connection.id] = (connection, [cut.data])
            else:
                found[1].append(cut.data)
            subscriber.position, subscriber.order = cut.last_id, cut.last_order
            if cut.final:
                ended.append(connection)
            elif cut.last_order < lowest[1]:
                lowest = (cut.last_id, cut.last_order)
        topic.cursor = lowest
        for connection in ended:
            self._drop(connection, topic.message_id)

    def _drop(self, connection: Connection, message_id: int) -> None:
        connection.subscriptions.discard(message_id)
        topic = self.topics.get(message_id)
        if topic is not None:
            topic.subscribers.pop(connection.id, None)
            if not topic.subscribers:
                del self.topics[message_id]

    def check_waiting(self) -> None:
        """The periodic pass: replies without a stream hear their queue position (one query for
        all), or get the stored message when they ended and their stream expired; replies whose
        events stopped get the stored message if their row is final."""
        now = time.monotonic()
        with self.lock:
            quiet = [
                message_id
                for message_id, topic in self.topics.items()
                if not topic.live and now - topic.last_event_at >= FIRST_WAIT_S
            ]
            stalled = [
                message_id
                for message_id, topic in self.topics.items()
                if topic.live and now - topic.last_event_at >= STALL_S
            ]
            for message_id in stalled:
                self.topics[message_id].last_event_at = now  # looked up again after STALL_S
        missing = stalled
        if quiet:
            pipe = self.streams.client.pipeline(transaction=False)
            for message_id in quiet:
                pipe.exists(self.streams.stream_key(message_id))
            exists = pipe.execute()
            missing = stalled + [mid for mid, found in zip(quiet, exists, strict=True) if not found]
        if not missing:
            return
        frames: dict[int, dict[str, Any]] = {}
        with self.db.session() as session:
            rows = session.scalars(select(Message).where(Message.id.in_(missing))).all()
            statuses = {row.id: row.status for row in rows}
            for row in rows:
                if row.status in FINAL_STATUSES:
                    stored = MessageOut.model_validate(row).model_dump(mode="json")
                    frames[row.id] = {"type": "message", "message_id": row.id, "message": stored}
            queued = (
                queued_reply_order(session, self.streams.client, self.default_model)
                if MessageStatus.QUEUED in statuses.values()
                else {}
            )
        with self.lock:
            for message_id in missing:
                topic = self.topics.get(message_id)
                if topic is None:
                    continue
                if topic.live and message_id not in frames:
                    continue  # still generating (or gone, which its own events will say)
                self._settle(topic, statuses.get(message_id), frames.get(message_id), queued)

    def _settle(
        self, topic: Topic, status: str | None, stored: dict[str, Any] | None, queued: Positions
    ) -> None:
        message_id = topic.message_id
        if status is None or stored is not None:
            for subscriber in list(topic.subscribers.values()):
                if stored is not None:
                    subscriber.connection.push(stored)
                else:
                    subscriber.connection.problem("not_found", "message not found", message_id)
                self._drop(subscriber.connection, topic.message_id)
            return
        if status != MessageStatus.QUEUED:
            return  # a worker took it: its first events are on their way
        # in the order workers start them (fair sharing), not the order they were sent
        position = queued.get(topic.message_id, 1)
        for subscriber in topic.subscribers.values():
            if subscriber.announced_position != position:
                subscriber.announced_position = position
                frame = {"type": "queued", "message_id": topic.message_id, "position": position}
                subscriber.connection.push(frame)
