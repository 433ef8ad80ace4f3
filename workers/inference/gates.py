"""A worker takes from a queue only jobs its engine can start: work waits in Redis, where any
worker can take it, never in a busy worker's buffer.

The worker runs two threads per engine place (WORKER_CONCURRENCY). Chat jobs (``inference``)
may hold one thread per place and batch items one per place: when a kind holds them all, the
worker stops consuming its queue (its consumer cancels the queue, as Celery's
``cancel_consumer`` does) and takes it up again when one ends. So a chat job always finds a
thread, and the engine puts it ahead of batch items (suspending one when every place is taken).
A job that arrived before its queue was cancelled goes back to it unclaimed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps
from celery.worker.consumer import Consumer

from app.jobs import BATCH_QUEUE, INTERACTIVE_QUEUE
from workers import celery

logger = logging.getLogger(__name__)


class QueueGate:
    def __init__(self, queue: str) -> None:
        self.queue = queue
        self._lock = threading.Lock()
        self.held = 0
        self.paused = False
        self.consumer: Consumer | None = None

    def enter(self, limit: int) -> bool:
        """Takes a thread for a job of this queue; False when its kind holds every place."""
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
        consumer.call_soon(method, consumer, self.queue)
        return True


chat_gate = QueueGate(INTERACTIVE_QUEUE)
batch_gate = QueueGate(BATCH_QUEUE)


class CaptureConsumer(bootsteps.StartStopStep):  # type: ignore[misc]
    """Hands the worker's consumer to the gates."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, parent: Consumer) -> None:
        chat_gate.consumer = batch_gate.consumer = parent

    def stop(self, parent: Consumer) -> None:
        chat_gate.consumer = batch_gate.consumer = None


celery.steps["consumer"].add(CaptureConsumer)


def send_back(task: str, job_id: int) -> None:
    """The job, unclaimed, back to its queue (where any worker with room takes it)."""
    celery.send_task(task, args=[job_id])
    logger.info("%s %s went back to its queue: this worker has no place for it", task, job_id)
