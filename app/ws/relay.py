"""One Redis reader per web process: one XREAD over the streams of every subscribed reply, fanned
out to each subscriber from its own last event id; and one periodic database pass for the replies
without a stream yet (queue positions) or any more (the stored message)."""

from __future__ import annotations

import bisect
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import select

from app.db import Database
from app.enums import FINAL_STATUSES, MessageStatus
from app.models import Message
from app.redis_keys import ws_wake_key
from app.schemas.messages import MessageOut
from app.services.replies import queued_reply_ids
from app.streams import StreamEvent, TokenStreams, event_order
from app.ws.connection import Connection, text_frame

logger = logging.getLogger(__name__)
BLOCK_MS = 5000  # the reader blocks this long; a new subscription wakes it at once
READ_COUNT = 1000  # entries per stream per read: a long backlog comes in several reads
FIRST_WAIT_S = 0.25  # a reply's first events are awaited this long before the database pass
WAKE_TTL_S = 86400
YIELD_EVERY = 100  # sockets served between two yields of a delivery burst


@dataclass
class Subscriber:
    connection: Connection
    position: str
    announced_position: int | None = None


@dataclass
class Topic:
    """A reply's stream and the sockets that follow it."""

    message_id: int
    subscribers: dict[int, Subscriber] = field(default_factory=dict)
    last_event_at: float = field(default_factory=time.monotonic)
    live: bool = False  # events came from its stream: no database pass needed any more

    def read_from(self) -> str:
        return min((s.position for s in self.subscribers.values()), key=event_order)


class StreamHub:
    def __init__(self, streams: TokenStreams, reader: TokenStreams, db: Database) -> None:
        """``streams`` on the process's shared pool; ``reader`` on a client of its own (it
        blocks)."""
        self.streams = streams
        self.reader = reader
        self.db = db
        self.topics: dict[int, Topic] = {}
        self.lock = threading.Lock()
        self.wake_key = ws_wake_key(uuid.uuid4().hex)
        self.wake_position = "0-0"
        self.stopped = threading.Event()

    def subscribe(self, connection: Connection, message_id: int, after: str | None) -> None:
        """Follows the reply from ``after`` (its beginning when None): backlog, then live."""
        with self.lock:
            topic = self.topics.setdefault(message_id, Topic(message_id))
            topic.subscribers[connection.id] = Subscriber(connection, after or "0-0")
            connection.subscriptions.add(message_id)
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

    def subscriber_count(self) -> int:
        with self.lock:
            return sum(len(topic.subscribers) for topic in self.topics.values())

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
            after = {mid: topic.read_from() for mid, topic in self.topics.items()}
        found, woken = self.reader.read_many(
            after, block_ms=BLOCK_MS, count=READ_COUNT, wake=(self.wake_key, self.wake_position)
        )
        if woken is not None:
            self.wake_position = woken
        if not found:
            return
        deliveries: list[tuple[Connection, list[bytes]]] = []
        with self.lock:
            for message_id, events in found.items():
                topic = self.topics.get(message_id)
                if topic is not None:
                    deliveries += self._deliver(topic, after[message_id], events)
        # outside the lock, and yielding now and then: a burst for a thousand sockets must not
        # hold up the requests this process serves meanwhile
        for count, (connection, frames) in enumerate(deliveries, 1):
            connection.push_frames(frames)
            if count % YIELD_EVERY == 0:
                time.sleep(0)

    def _deliver(
        self, topic: Topic, read_from: str, events: list[StreamEvent]
    ) -> list[tuple[Connection, list[bytes]]]:
        """Advances each subscriber past the events it had not seen; their frames, by socket."""
        topic.last_event_at = time.monotonic()
        topic.live = True
        start = event_order(read_from)
        orders = [event_order(event.id) for event in events]
        frames = [text_frame(event.as_frame(topic.message_id)) for event in events]
        deliveries = []
        for subscriber in list(topic.subscribers.values()):
            position = event_order(subscriber.position)
            if position < start:
                continue  # joined behind this read: its own backlog read comes next
            first = next((n for n, order in enumerate(orders) if order > position), len(events))
            last = next((n for n in range(first, len(events)) if events[n].is_final), None)
            end = len(events) if last is None else last + 1
            if first == end:
                continue
            deliveries.append((subscriber.connection, frames[first:end]))
            subscriber.position = events[end - 1].id
            if last is not None:
                self._drop(subscriber.connection, topic.message_id)
        return deliveries

    def _drop(self, connection: Connection, message_id: int) -> None:
        connection.subscriptions.discard(message_id)
        topic = self.topics.get(message_id)
        if topic is None:
            return
        topic.subscribers.pop(connection.id, None)
        if not topic.subscribers:
            del self.topics[message_id]

    def check_waiting(self) -> None:
        """The periodic pass: replies without a stream hear their queue position (one query for
        all), or get the stored message when they ended and their stream expired."""
        now = time.monotonic()
        with self.lock:
            quiet = [
                message_id
                for message_id, topic in self.topics.items()
                if not topic.live and now - topic.last_event_at >= FIRST_WAIT_S
            ]
        if not quiet:
            return
        pipe = self.streams.client.pipeline(transaction=False)
        for message_id in quiet:
            pipe.exists(self.streams.stream_key(message_id))
        missing = [mid for mid, exists in zip(quiet, pipe.execute(), strict=True) if not exists]
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
            queued = queued_reply_ids(session) if MessageStatus.QUEUED in statuses.values() else []
        with self.lock:
            for message_id in missing:
                topic = self.topics.get(message_id)
                if topic is not None:
                    self._settle(topic, statuses.get(message_id), frames.get(message_id), queued)

    def _settle(
        self,
        topic: Topic,
        status: MessageStatus | None,
        stored: dict[str, Any] | None,
        queued: list[int],
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
        position = bisect.bisect_right(queued, topic.message_id)
        for subscriber in topic.subscribers.values():
            if subscriber.announced_position != position:
                subscriber.announced_position = position
                frame = {"type": "queued", "message_id": topic.message_id, "position": position}
                subscriber.connection.push(frame)
