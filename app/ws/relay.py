"""Relays one message's Redis stream to a socket, resuming after a given event id."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis

from app.db import Database
from app.enums import FINAL_STATUSES, MessageStatus
from app.models import Message
from app.redis_keys import DOCUMENT_CHANNEL
from app.schemas.messages import MessageOut
from app.services.replies import queue_position
from app.streams import StreamEvent, TokenStreams

logger = logging.getLogger(__name__)
Send = Callable[[dict[str, Any] | str], None]
POLL_MS = 2000
QUEUED_POLL_MS = 1000  # how often a waiting client hears its queue position
FIRST_WAIT_MS = 250  # an open reply's first events are awaited this long before the database


class Subscription(threading.Thread):
    """Forwards events in order until the final one, or until stopped."""

    def __init__(
        self,
        *,
        message_id: int,
        last_event_id: str | None,
        streams: TokenStreams,
        db: Database,
        send: Send,
        open_at_subscribe: bool = False,
    ) -> None:
        """``open_at_subscribe``: the reply was queued or generating when the client asked."""
        super().__init__(daemon=True, name=f"relay-{message_id}")
        self.message_id = message_id
        self.position = last_event_id or "0-0"
        self.streams = streams
        self.db = db
        self.send = send
        self.stopped = threading.Event()
        self.announced_position: int | None = None
        self.open_at_subscribe = open_at_subscribe

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        try:
            self.relay()
        except ConnectionError:
            pass  # the socket closed; the client resumes from its last event id
        except Exception:
            logger.exception("relay for message %s failed", self.message_id)

    def relay(self) -> None:
        if self.open_at_subscribe:
            # Most likely a worker is about to stream it: wait for that before asking the
            # database for a queue position, work that would compete with the first token.
            events = self.streams.read(self.message_id, self.position, block_ms=FIRST_WAIT_MS)
            if self.forward(events):
                return
        elif self.serve_from_database():
            return
        while not self.stopped.is_set():
            block_ms = POLL_MS if self.announced_position is None else QUEUED_POLL_MS
            events = self.streams.read(self.message_id, self.position, block_ms=block_ms)
            if self.forward(events):
                return
            if not events and self.serve_from_database():
                return

    def forward(self, events: list[StreamEvent]) -> bool:
        """Sends the events in order; True once the relay is finished (final event or stop)."""
        for event in events:
            if self.stopped.is_set():
                return True
            self.send(event.as_frame(self.message_id))
            self.position = event.id
            if event.is_final:
                return True
        return self.stopped.is_set()

    def serve_from_database(self) -> bool:
        """Without a stream: a final reply (its stream expired) comes from the database, and a
        reply still queued hears its place in the queue. True when the relay is finished."""
        if self.streams.exists(self.message_id):
            return False
        with self.db.session() as session:
            message = session.get(Message, self.message_id)
            if message is None:
                self.send(
                    {
                        "type": "problem",
                        "code": "not_found",
                        "message": "message not found",
                        "message_id": self.message_id,
                    }
                )
                return True
            if message.status == MessageStatus.QUEUED:
                position = queue_position(session, message.id)
            elif message.status not in FINAL_STATUSES:
                return False
            else:
                stored = MessageOut.model_validate(message).model_dump(mode="json")
                self.send({"type": "message", "message_id": self.message_id, "message": stored})
                return True
        if position != self.announced_position:  # still waiting for a worker
            self.announced_position = position
            self.send({"type": "queued", "message_id": self.message_id, "position": position})
        return False


class DocumentFeed(threading.Thread):
    """Forwards document progress events (Redis pub/sub) to an admin's socket."""

    def __init__(self, client: redis.Redis, send: Send) -> None:
        super().__init__(daemon=True, name="document-feed")
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self.pubsub.subscribe(DOCUMENT_CHANNEL)
        self.send = send
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                event = self.pubsub.get_message(timeout=POLL_MS / 1000)
                if event is not None and event["type"] == "message":
                    data = event["data"]
                    self.send(data.decode() if isinstance(data, bytes) else str(data))
        except ConnectionError:
            pass
        except Exception:
            logger.exception("document feed failed")
        finally:
            self.pubsub.close()
