"""Batch items fill free places only, so that a chat job always finds a thread to run in.

The worker runs two threads per engine place (WORKER_CONCURRENCY). Batch items may hold at most
one per place: when they do, the worker stops taking jobs from ``batch`` (its consumer cancels
the queue, as Celery's ``cancel_consumer`` does) and takes them again when one ends. The other
threads stay free for chat jobs, which the engine puts ahead of batch items (suspending one
when every place is taken). A batch job that arrived before the queue was cancelled goes back
to it unclaimed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps
from celery.worker.consumer import Consumer

from app.jobs import BATCH_QUEUE, GENERATE_BATCH_ITEM
from workers import celery

logger = logging.getLogger(__name__)


class BatchGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held = 0
        self.paused = False
        self.consumer: Consumer | None = None

    def enter(self, limit: int) -> bool:
        """Takes a place for a batch item; False when batch items hold every place."""
        with self._lock:
            if self.held >= limit:
                return False
            self.held += 1
            if self.held >= limit and not self.paused:
                self.paused = self._call(Consumer.cancel_task_queue)
            return True

    def leave(self, limit: int) -> None:
        with self._lock:
            self.held -= 1
            if self.held < limit and self.paused:
                self._call(Consumer.add_task_queue)
                self.paused = False

    def _call(self, method: Any) -> bool:
        """Runs a consumer method in the consumer's own thread (its event loop)."""
        consumer = self.consumer
        if consumer is None:
            return False
        consumer.call_soon(method, consumer, BATCH_QUEUE)
        return True


gate = BatchGate()


class CaptureConsumer(bootsteps.StartStopStep):  # type: ignore[misc]
    """Hands the worker's consumer to the gate."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, parent: Consumer) -> None:
        gate.consumer = parent

    def stop(self, parent: Consumer) -> None:
        gate.consumer = None


celery.steps["consumer"].add(CaptureConsumer)


def send_back(item_id: int) -> None:
    """The item's job, unclaimed, back to the end of ``batch``."""
    celery.send_task(GENERATE_BATCH_ITEM, args=[item_id])
    logger.info("batch item %s went back to the queue: batch work holds every place", item_id)
