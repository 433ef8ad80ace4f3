"""Wakes this worker's reserve tickets when a fair-share ticket of its model is sent.

A reserve ticket looks for a light user's job in the database (workers/inference/tasks.py);
without a notice it looks again only every RESERVE_POLL_S, so a light user who arrives just
after a look waits that long before starting. The web publishes each ticket's model on
FAIR_ARRIVALS (app/jobs.py) and one thread per worker wakes the waiting tickets. Wake-ups are
at least MIN_GAP_S apart (notices in between are coalesced into one): a flood of API calls
costs each worker at most one look per MIN_GAP_S, not one per call. A notice is a hint: the
poll still runs, so a lost notice or a Redis outage delays a light user, never strands one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

from app.redis_keys import FAIR_ARRIVALS, db_channel
from app.services.routing import as_text

logger = logging.getLogger(__name__)
MIN_GAP_S = 0.01  # between two wake-ups
RETRY_S = 1.0  # after losing the connection to Redis


class ArrivalWatch:
    def __init__(self, client: redis.Redis, model: str, wake: Callable[[], None]) -> None:
        self.client = client
        self.model = model
        self.wake = wake
        self.stopped = threading.Event()

    def watch(self) -> None:
        """Subscribes, then wakes the tickets once for the notices of this worker's model that
        came since the last wake-up (read without waiting, after a gap of MIN_GAP_S)."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(db_channel(self.client, FAIR_ARRIVALS))
            pending = False
            while not self.stopped.is_set():
                message = pubsub.get_message(timeout=0 if pending else RETRY_S)
                if message is not None:
                    pending = pending or as_text(message["data"]) == self.model
                elif pending:
                    self.wake()
                    pending = False
                    self.stopped.wait(MIN_GAP_S)
        finally:
            pubsub.close()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.watch()
            except redis.RedisError:
                logger.warning("lost the ticket notices; the reserve polls", exc_info=True)
                self.stopped.wait(RETRY_S)

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True, name="arrivals").start()

    def stop(self) -> None:
        self.stopped.set()
