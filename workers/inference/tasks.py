"""Celery tasks of the inference workers; thin: they take ids and run the job with its adapter."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from celery.signals import (
    task_postrun,
    task_received,
    worker_init,
    worker_ready,
    worker_shutdown,
)

from app.jobs import GENERATE_BATCH_ITEM, GENERATE_COMPLETION, GENERATE_REPLY
from app.metrics import REPLIES_IN_FLIGHT
from workers import celery
from workers.context import WorkerContext, get_context
from workers.inference import fair
from workers.inference import presence as presences
from workers.inference.arrivals import ArrivalWatch
from workers.inference.chat_job import ChatReplyJob
from workers.inference.engine_gauges import start_engine_gauges
from workers.inference.gates import (
    QueueGate,
    batch_gate,
    chat_gate,
    hand_over,
    send_back,
    serves_inference,
)
from workers.inference.item_job import ItemJob
from workers.inference.model import ChatModel, get_model
from workers.inference.presence import Presence, took_routed
from workers.inference.runner import Job, run_job
from workers.ingest.embedder import get_embedder
from workers.retrieval import retrieve
from workers.task_context import job_started
from workers.vectors import Hit

logger = logging.getLogger(__name__)
RESERVE_POLL_S = 0.1  # a reserve ticket looks for a light user's job this often
HANDOVER_POLL_S = 0.5  # and for another worker with a free place this often


@worker_init.connect
def load_on_start(**_kwargs: Any) -> None:
    """Open connections, and load the model in inference workers, before the first job.

    Workers run the threads pool: one model and one engine per process, no fork after the model
    is loaded, a thread per job in flight (two per engine place), and heartbeats keep flowing
    while llama.cpp computes.
    """
    get_context()
    if serves_inference():
        start_engine_gauges(get_model().engine)
        # knowledge-base questions are embedded here, not on the ingest queue: the embedder
        # (torch, seconds) loads beside the first jobs, not before the worker takes any, so a
        # restarted worker answers chats without knowledge base as soon as its model is in
        threading.Thread(target=get_embedder, name="embedder-load", daemon=True).start()


@worker_ready.connect
def announce(**_kwargs: Any) -> None:
    """Tells the web this worker serves its model and how many chat places it has free."""
    if not serves_inference():
        return
    ctx, model = get_context(), get_model()
    places = model.engine.config.n_parallel
    presence = Presence(
        ctx.streams.client,
        ctx.worker_id,
        ctx.settings.lease_ttl_s,
        [model.name],
        places,
        lambda: max(0, places - chat_gate.held),
    )
    presence.start()
    presences.current.append(presence)
    watch = ArrivalWatch(ctx.streams.client, model.name, wake_reserve)
    watch.start()
    watches.append(watch)


@task_received.connect
def hold(request: Any = None, **_kwargs: Any) -> None:
    """A job's task reached this worker: noted until it ends (presences.note_held)."""
    if request is None or not presences.current:  # an inference worker, announced
        return
    try:
        ctx = get_context()
        presences.note_held(ctx.streams.client, ctx.worker_id, request.name, request.args)
    except redis.RedisError:
        logger.warning("could not note a received task", exc_info=True)


@task_postrun.connect
def unhold(task: Any = None, args: Any = None, **_kwargs: Any) -> None:
    """The task ended (its job final, running elsewhere, or sent back as a new task): from
    its start until here it was both held and, once leased, covered by its lease."""
    if task is None or not presences.current:
        return
    try:
        ctx = get_context()
        presences.note_ended(ctx.streams.client, ctx.worker_id, task.name, args)
    except redis.RedisError:
        logger.warning("could not note a started task", exc_info=True)


@worker_shutdown.connect
def withdraw(**_kwargs: Any) -> None:
    for presence in presences.current:
        presence.leave()
    for watch in watches:
        watch.stop()


def knowledge(query: str, session_id: int, knowledge_base: bool) -> list[Hit]:
    return retrieve(get_context(), get_embedder, query, session_id, knowledge_base)


def gated(gate: QueueGate, task: str, job_id: int, run: Callable[[ChatModel], object]) -> None:
    """Runs the job when this worker has a place (or a reserve place) for its kind, else sends
    it back."""
    model = get_model()
    places = model.engine.config.n_parallel
    limit = places + (get_context().settings.reserve_places if gate is chat_gate else 0)
    if not gate.enter(limit):
        send_back(task, job_id)
        return
    job_started(gate.kind, model.name)
    in_flight = REPLIES_IN_FLIGHT.labels(gate.kind)
    in_flight.inc()
    try:
        run(model)
    finally:
        in_flight.dec()
        gate.leave(limit)
        presences.refresh()


def interactive_job(task: str) -> Job[Any, Any, Any]:
    return ChatReplyJob(knowledge) if task == GENERATE_REPLY else ItemJob(stream=True)


def run_interactive(ctx: WorkerContext, model: ChatModel, task: str, job_id: int) -> bool:
    """A chat reply's or API completion's job; batch items sit the engine's steps out from now
    until it reaches the engine (its claim and prompt have the cores: holds.py)."""
    with model.engine.holds.expecting():
        return run_job(ctx, model, interactive_job(task), job_id)


@dataclass
class Scout:
    """The reserve tickets' shared look for light users' jobs: one ticket picks at a time, and
    after a look that found none the next waits RESERVE_POLL_S (one database query per poll,
    however many tickets wait) unless a ticket of this model was sent since that look began
    (``arrivals``, counted by the ArrivalWatch); after a pick the next ticket looks at once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    starting: set[int] = field(default_factory=set)  # users picked, their jobs running
    quiet_until: float = 0.0
    arrivals: int = 0  # notices of tickets sent, counted by one thread
    looked_at: int = 0  # ``arrivals`` when the last look that found none began

    def quiet(self) -> bool:
        return self.arrivals == self.looked_at and time.monotonic() < self.quiet_until


scout = Scout()
watches: list[ArrivalWatch] = []


def wake_reserve() -> None:
    """A ticket of this worker's model was sent: the reserve tickets look now."""
    scout.arrivals += 1
    chat_gate.wake()


def start_light(ctx: WorkerContext, model: ChatModel) -> bool:
    """A reserve ticket starts a light user's job if one waits and may take a place. The job
    runs after the pick, outside the lock: light users who arrive together are picked one
    right after another and start together (their prompts share the engine's next step), not
    each after the previous one's reply."""
    inside, room = model.engine.owners()
    if not room:
        return False
    while True:
        if not scout.lock.acquire(timeout=RESERVE_POLL_S):
            return False
        try:
            if scout.quiet():
                return False
            seen = scout.arrivals
            # users picked by other tickets may not be in the engine yet
            job = fair.pick_light(ctx, set(inside) | scout.starting)
            if job is None:
                scout.quiet_until, scout.looked_at = time.monotonic() + RESERVE_POLL_S, seen
                return False
            scout.starting.add(job.user_id)
        finally:
            scout.lock.release()
        try:
            if run_interactive(ctx, model, job.task, job.job_id):
                return True
        finally:
            with scout.lock:
                scout.starting.discard(job.user_id)


def start_fair(model: ChatModel, task: str, job_id: int) -> None:
    """A chat reply's or API completion's task starts the job that fair sharing puts first; in
    the reserve (every place taken), the first job of a user with nothing in the engine, when
    one waits and may take a place (else it waits for a place, workers/inference/fair.py), or
    hands its task to another worker that has a free place."""
    ctx = get_context()
    places = model.engine.config.n_parallel
    if not chat_gate.take_place(places):
        # sent again after its worker died: take it up
        if fair.is_running(ctx, task, job_id) and run_interactive(ctx, model, task, job_id):
            return
        look_out = 0.0
        while not chat_gate.take_place(places, RESERVE_POLL_S):
            if start_light(ctx, model):
                return
            if time.monotonic() >= look_out:
                if hand_over(task, job_id, model.name):
                    return
                look_out = time.monotonic() + HANDOVER_POLL_S
    try:
        with model.engine.holds.expecting():  # batch items sit out until the job is in
            for picked_task, picked_id in fair.candidates(ctx, task, job_id):
                if run_job(ctx, model, interactive_job(picked_task), picked_id):
                    return
    finally:
        chat_gate.give_place()


@celery.task(name=GENERATE_REPLY)
def generate_reply(message_id: int) -> None:
    ctx = get_context()
    took_routed(ctx.streams.client, ctx.worker_id, message_id)
    gated(
        chat_gate, GENERATE_REPLY, message_id, lambda m: start_fair(m, GENERATE_REPLY, message_id)
    )


@celery.task(name=GENERATE_BATCH_ITEM)
def generate_batch_item(item_id: int) -> None:
    job = ItemJob(stream=False)
    gated(
        batch_gate, GENERATE_BATCH_ITEM, item_id, lambda m: run_job(get_context(), m, job, item_id)
    )


@celery.task(name=GENERATE_COMPLETION)
def generate_completion(item_id: int) -> None:
    gated(
        chat_gate,
        GENERATE_COMPLETION,
        item_id,
        lambda m: start_fair(m, GENERATE_COMPLETION, item_id),
    )
