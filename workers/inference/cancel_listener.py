"""Hears every streamed reply's Stop for a worker process: one pub/sub connection and one thread.

The web asks for a cancel by setting the reply's flag, then publishing on the reply's channel
(``TokenStreams.request_cancel``). Each streamed reply used to have a thread and a pub/sub
connection of its own to hear it, which woke twice a second: at 16 replies, 16 threads and 16
more Redis connections per worker, and 32 wake-ups a second beside the model. Here one thread
holds one pattern subscription on the cancel channels of its Redis database and sets the flag
of the reply it names; it sleeps until a message comes.

A cancel is never lost to a gap in the subscription: a reply checks its durable flag once it
is watched (a cancel published before that is in the flag), the thread checks every watched
reply's flag each time it has subscribed again after losing Redis, and every token write of a
reply returns its flag as well (app/stream_scripts.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import redis

from app.redis_keys import CANCEL_PREFIX, db_channel
from app.services.routing import as_text
from app.streams import TokenStreams

logger = logging.getLogger(__name__)
RETRY_S = 0.5  # after losing the connection to Redis
IDLE_WAIT_S = 5.0  # how long one wait for a message lasts (then it waits again)


class CancelListener(threading.Thread):
    def __init__(self, client: redis.Redis, key: tuple[int, int]) -> None:
        super().__init__(daemon=True, name="cancel-listener")
        self.client = client
        self.key = key  # its place in _listeners
        self.pattern = db_channel(client, f"{CANCEL_PREFIX}*")
        self.watched: dict[str, tuple[TokenStreams, int, threading.Event]] = {}
        self.lock = threading.Lock()
        self.subscribed = threading.Event()  # subscribed, and the watched flags read since

    def unwatch(self, channel: str) -> None:
        with self.lock:
            self.watched.pop(channel, None)

    def run(self) -> None:
        while True:
            pubsub = self.client.pubsub()  # type: ignore[no-untyped-call]
            try:
                self.listen(pubsub)
                return  # nothing watched for a while: retired
            except Exception as exc:  # Redis unavailable (redis-py may raise a TypeError
                # from a pub/sub connection it closed while reconnecting): a fresh subscription
                self.subscribed.clear()
                if self.retire():  # nothing to hear (a server gone for good, in tests)
                    logger.debug("cancel listener: %r; nothing watched, ending", exc)
                    return
                logger.warning("cancel listener: %r; subscribing again", exc)
                time.sleep(RETRY_S)
            finally:
                pubsub.close()

    def listen(self, pubsub: Any) -> None:
        """Until nothing has been watched for IDLE_WAIT_S; raises what Redis raised."""
        pubsub.psubscribe(self.pattern)
        while True:
            message = pubsub.get_message(timeout=IDLE_WAIT_S)
            if message is None:
                if self.retire():
                    return
            elif message["type"] == "psubscribe":  # subscribed (again, after a reconnect)
                self.check_all()  # cancels asked while there was no subscription
                self.subscribed.set()
            elif message["type"] == "pmessage":
                with self.lock:
                    found = self.watched.get(as_text(message["channel"]))
                if found is not None:
                    found[2].set()

    def check_all(self) -> None:
        with self.lock:
            watched = list(self.watched.values())
        for streams, message_id, cancelled in watched:
            if streams.cancel_requested(message_id):
                cancelled.set()

    def retire(self) -> bool:
        """Leaves _listeners when nothing is watched (the next reply starts another)."""
        with _listeners_lock:
            with self.lock:
                if self.watched:
                    return False
            if _listeners.get(self.key) is self:
                del _listeners[self.key]
            return True


_listeners: dict[tuple[int, int], CancelListener] = {}
_listeners_lock = threading.Lock()


def watch_cancel(
    streams: TokenStreams, message_id: int, cancelled: threading.Event
) -> Callable[[], None]:
    """Sets ``cancelled`` when a cancel of ``message_id`` is asked (or was already), through
    this process's listener on the streams' Redis (started on first use; a forked child starts
    its own, as threads do not survive a fork). Call the result once the reply is over."""
    key = (os.getpid(), id(streams.client))
    channel = streams.cancel_channel(message_id)
    with _listeners_lock:
        listener = _listeners.get(key)
        if listener is None or not listener.is_alive():
            listener = _listeners[key] = CancelListener(streams.client, key)
            listener.start()
        with listener.lock:
            listener.watched[channel] = (streams, message_id, cancelled)
    try:
        if streams.cancel_requested(message_id):  # asked before it was watched
            cancelled.set()
    except redis.RedisError as exc:  # the reply's writes return the flag as well
        logger.warning("could not read the cancel flag of %s: %s", message_id, exc)
    return partial(listener.unwatch, channel)
