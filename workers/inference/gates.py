"""A worker takes from a queue only jobs its engine can start: work waits in Redis, where any
worker can take it, never in a busy worker's buffer.

The worker runs two threads per engine place, plus the fair-sharing reserve
(WORKER_CONCURRENCY). Chat jobs (``inference``) may hold one thread per place and the reserve
(threads that start only a job of a user with nothing running here, workers/inference/fair.py),
batch items one per place: when a kind holds them all, the worker stops consuming its queue
(its consumer cancels the queue, as Celery's ``cancel_consumer`` does) and takes it up again
when one ends. So a chat job always finds a thread, and the engine puts it ahead of batch items
(suspending one when every place is taken). A job that arrived before its queue was cancelled
goes back to it unclaimed. A chat job whose task waits in the reserve while another worker
announces a free place is handed over to that worker (``hand_over``). An inference worker
also consumes a queue of its own (chat replies routed to the worker holding their chat), gated
with the shared chat queue.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import bootsteps
from celery.worker.consumer import Consumer

from app.config import get_settings
from app.jobs import (
    BATCH_QUEUE,
    GENERATE_BATCH_ITEM,
    INTERACTIVE_QUEUE,
    base_queue,
    batch_queue,
    chat_queue,
    job_headers,
    worker_queue,
)
from app.services.routing import live_workers
from workers import celery
from workers.context import get_context
from workers.inference.presence import note_held
from workers.task_context import current_sent_at

logger = logging.getLogger(__name__)


class QueueGate:
    def __init__(self, queue: str) -> None:
        self.queue = queue  # the shared queue (its model's)
        self.kind = base_queue(queue)  # labels metrics ("inference", "batch"; model apart)
        self.queues = [queue]
        self._lock = threading.Lock()
        self.held = 0
        self.placed = 0  # of ``held``: jobs that have an engine place (chat; the rest reserve)
        self._freed = threading.Condition(self._lock)
        self.paused = False  # wanted: its kind holds every thread
        self.cancelled = False  # done: its queues cancelled (the consumer's thread only)
        self.consumer: Consumer | None = None

    def enter(self, limit: int) -> bool:
        """Takes a thread for a job of this queue; False when its kind holds every place."""
        with self._lock:
            if self.held >= limit:
                return False
            self.held += 1
            if self.held >= limit and not self.paused:
                self.paused = True
                self._schedule()
            return True

    def leave(self, limit: int) -> None:
        with self._lock:
            self.held -= 1
            if self.held < limit and self.paused:
                self.paused = False
                self._schedule()

    def take_place(self, places: int, wait_s: float = 0.0) -> bool:
        """Counts this thread's job in the engine's places if one is free (waiting up to
        ``wait_s`` for one); False: every place is taken, the thread holds a reserve place."""
        with self._lock:
            if self.placed >= places and wait_s > 0:
                self._freed.wait(wait_s)
            if self.placed >= places:
                return False
            self.placed += 1
            return True

    def give_place(self) -> None:
        with self._lock:
            self.placed -= 1
            self._freed.notify()

    def wake(self) -> None:
        """Every thread waiting for a place looks again (a job for the reserve may wait)."""
        with self._lock:
            self._freed.notify_all()

    def _schedule(self) -> None:
        """Has the consumer's own thread (its event loop) consume the queues or not, as the gate
        wants when it runs (``_apply``); with no consumer (between a connection's loss and the
        next), the next one applies it when it starts (``start``)."""
        consumer = self.consumer
        if consumer is not None:
            consumer.call_soon(self._apply, consumer)

    def _apply(self, consumer: Consumer, starting: bool = False) -> None:
        """Cancels the queues while the gate is paused, consumes them again once it is not.

        It reads the state when it runs, not when it was scheduled: the event loop runs its
        callbacks in no set order (kombu's Hub keeps them in a set). A pause and a resume
        scheduled close together (batch items cancelled, each dropped in a millisecond) ran
        resume first, a no-op, then the pause: the worker never took batch work again. A new
        consumer (``starting``) cancels a paused gate's queues anew: it consumes what is
        selected, and a gate paused while there was none never cancelled them."""
        if consumer.task_consumer is None:  # the worker is shutting down
            return
        with self._lock:
            paused = self.paused
        if paused and (starting or not self.cancelled):
            self.cancelled = True  # first: a failed call leaves it to be undone
            for queue in self.queues:
                consumer.cancel_task_queue(queue)
        elif not paused and self.cancelled:
            for queue in self.queues:
                consumer.add_task_queue(queue)
            self.cancelled = False

    def start(self, consumer: Consumer) -> None:
        """A new consumer (the worker's start, or after a connection was lost): its queues as
        the gate wants them now (in the consumer's thread)."""
        self.consumer = consumer
        self._apply(consumer, starting=True)


_served = get_settings()  # this worker's model: its chat and batch queues
chat_gate = QueueGate(chat_queue(_served, _served.served_model_name))
batch_gate = QueueGate(batch_queue(_served, _served.served_model_name))


class ModelQueues(bootsteps.Step):  # type: ignore[misc]
    """``-Q inference,batch`` means this worker's model's queues (``inference.{model}`` and
    ``batch.{model}`` with MODELS), so one command line serves any model (WORKER_MODEL)."""

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        queues = worker.app.amqp.queues
        for base, own in ((INTERACTIVE_QUEUE, chat_gate.queue), (BATCH_QUEUE, batch_gate.queue)):
            if base != own and base in (queues.consume_from or {}):
                queues.select_add(own)
                queues.deselect(base)


celery.steps["worker"].add(ModelQueues)


class CaptureConsumer(bootsteps.StartStopStep):  # type: ignore[misc]
    """Hands the worker's consumer to the gates."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, parent: Consumer) -> None:
        if serves_inference():
            own = worker_queue(get_context().worker_id)
            parent.add_task_queue(own)
            if own not in chat_gate.queues:
                chat_gate.queues.append(own)
        chat_gate.start(parent)
        batch_gate.start(parent)

    def stop(self, parent: Consumer) -> None:
        chat_gate.consumer = batch_gate.consumer = None


celery.steps["consumer"].add(CaptureConsumer)


def serves_inference() -> bool:
    return chat_gate.queue in (celery.amqp.queues.consume_from or {})


def send_back(task: str, job_id: int) -> None:
    """The job, unclaimed, back to its queue (where any worker with room takes it)."""
    send_again(task, job_id)
    logger.info("%s %s went back to its queue: this worker has no place for it", task, job_id)


def hand_over(task: str, job_id: int, model_name: str) -> bool:
    """The task of a job waiting in this worker's reserve goes to another worker of its model
    that announces a free place, to that worker's own queue; noted as held there first, so
    the reaper sends it again if that worker dies before taking it. False: none has room."""
    ctx = get_context()
    client = ctx.streams.client
    try:
        roomy = [
            presence
            for presence in live_workers(client)
            if presence.worker_id != ctx.worker_id
            and presence.free > 0
            and model_name in presence.models
        ]
        if not roomy:
            return False
        target = max(roomy, key=lambda presence: presence.free).worker_id
        note_held(client, target, task, [job_id])
    except redis.RedisError:
        logger.warning("could not look for a worker with room", exc_info=True)
        return False
    send_again(task, job_id, worker_queue(target))
    logger.info("%s %s went to worker %s, which has a free place", task, job_id, target)
    return True


def send_again(task: str, job_id: int, queue: str | None = None) -> None:
    """The job's task sent anew (to this worker's model's queue, or ``queue``): the log context
    and the first send's time go along, so its wait counts from then."""
    headers = job_headers(sent_at=current_sent_at())
    if queue is None:
        queue = batch_gate.queue if task == GENERATE_BATCH_ITEM else chat_gate.queue
    celery.send_task(task, args=[job_id], headers=headers, queue=queue)
