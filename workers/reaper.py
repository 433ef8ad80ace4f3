"""Takes up the jobs of workers that died: a job a worker took (listed in its kind's running
set) whose lease lapsed while its row is still running gets its job sent again, and so does a
reply routed to a worker's own queue whose presence lapsed before it took it, and a queued job
whose task was lost on its way to a worker (workers/lost.py). Every worker
process runs this every LEASE_TTL_S / 2; a Redis lock keeps it to one pass at a time. The same
pass expires the batches past their completion window (app/services/openai_batches.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import DocumentStatus, ItemStatus, MessageStatus
from app.jobs import (
    EMBED_BATCH_ITEM,
    GENERATE_BATCH_ITEM,
    GENERATE_COMPLETION,
    GENERATE_REPLY,
    INGEST_DOCUMENT,
    MODEL_TASKS,
    model_queue,
    queue_keys,
    worker_queue,
)
from app.models import BatchItem, Message, RagDocument, utcnow
from app.redis_keys import (
    LOST_SWEEP_LOCK,
    REAPER_LOCK,
    WORKERS_SET,
    held_key,
    routed_key,
    worker_key,
)
from app.services.openai_batches import expire_due
from app.services.routing import as_text
from workers import celery
from workers.context import WorkerContext, get_context
from workers.inference.presence import held_job
from workers.leases import forget, live_leases, taken_jobs
from workers.lost import send_lost
from workers.unacked import ORPHAN_LEASES, take_over_orphans

logger = logging.getLogger(__name__)
Send = Callable[[str, int], None]
# for each kind of lease: the jobs among ``ids`` whose rows still run, with the task to resend
StillRunning = Callable[[Session, list[int]], dict[int, str]]
_stopped = threading.Event()


# A taken job whose row is still queued was leased by a worker that died before its claim
# committed: its task was taken off the queue too, so it is sent again like a running one.
REPLY_OPEN = (MessageStatus.QUEUED, MessageStatus.GENERATING)
ITEM_OPEN = (ItemStatus.QUEUED, ItemStatus.RUNNING)


def replies_running(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.scalars(
        select(Message.id).where(Message.id.in_(ids), Message.status.in_(REPLY_OPEN))
    )
    return {int(i): GENERATE_REPLY for i in rows}


def items_running(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(BatchItem.id, BatchItem.batch_id).where(
            BatchItem.id.in_(ids), BatchItem.status.in_(ITEM_OPEN)
        )
    )
    return {int(i): GENERATE_COMPLETION if b is None else GENERATE_BATCH_ITEM for i, b in rows}


def embeddings_running(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.scalars(
        select(BatchItem.id).where(BatchItem.id.in_(ids), BatchItem.status.in_(ITEM_OPEN))
    )
    return {int(i): EMBED_BATCH_ITEM for i in rows}


def documents_running(session: Session, ids: list[int]) -> dict[int, str]:
    indexing = [DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING]
    rows = session.scalars(
        select(RagDocument.id).where(RagDocument.id.in_(ids), RagDocument.status.in_(indexing))
    )
    return {int(i): INGEST_DOCUMENT for i in rows}


KINDS: dict[str, StillRunning] = {
    "reply": replies_running,
    "item": items_running,
    "document": documents_running,
    "embedding": embeddings_running,  # Batch API embeddings lines, on the ingest workers
}


def reap(ctx: WorkerContext, send: Send) -> list[tuple[str, int]]:
    """One pass: sends the job of every taken job whose worker is gone; returns them."""
    client = ctx.streams.client
    if not client.set(REAPER_LOCK, "1", nx=True, px=int(ctx.settings.lease_ttl_s * 500)):
        return []  # another worker's pass is recent enough
    orphans: list[tuple[str, int]] = []
    for kind, still_running in KINDS.items():
        taken = taken_jobs(client, kind)
        live = live_leases(client, kind, taken)
        unheld = [job_id for job_id in taken if job_id not in live]
        if not unheld:
            continue
        with ctx.db.session() as session:
            running = still_running(session, unheld)
        forget(client, kind, [job_id for job_id in unheld if job_id not in running])
        for job_id, task in running.items():
            logger.warning("the worker of %s %s is gone; sending its job again", kind, job_id)
            send(task, job_id)
            orphans.append((kind, job_id))
    orphans.extend(("reply", message_id) for message_id in sweep_departed(ctx, send))
    with ctx.db.session() as session:
        taken_over = take_over_orphans(
            client,
            ORPHAN_LEASES * ctx.settings.lease_ttl_s,
            lambda jobs: still_queued(session, jobs),
            send,
            lambda jobs: ended(session, jobs),
        )
    orphans.extend(("reply", job_id) for job_id in taken_over)
    if client.set(LOST_SWEEP_LOCK, "1", nx=True, px=int(ctx.settings.lease_ttl_s * 1000)):
        with ctx.db.session() as session:
            lost = send_lost(session, client, send, ctx.settings.lease_ttl_s)
        orphans.extend(("lost", job_id) for _, job_id in lost)
    with ctx.db.session() as session:
        for batch_id in expire_due(session, utcnow()):
            logger.info("batch %s is past its completion window: expired", batch_id)
    return orphans


def sweep_departed(ctx: WorkerContext, send: Send) -> list[int]:
    """For each worker whose presence lapsed: the replies routed to it and the jobs whose
    tasks it had received and not ended, still queued, are sent again (to the shared
    queues); then the worker is forgotten. Returns the job ids sent again."""
    client = ctx.streams.client
    resent: list[int] = []
    for member in client.smembers(WORKERS_SET):
        worker_id = as_text(member)
        if client.exists(worker_key(worker_id)):
            continue
        routed = [(GENERATE_REPLY, int(i)) for i in client.smembers(routed_key(worker_id))]
        held = [held_job(as_text(entry)) for entry in client.smembers(held_key(worker_id))]
        client.delete(*queue_keys(worker_queue(worker_id)))
        jobs = sorted(set(routed + held))
        with ctx.db.session() as session:
            waiting = still_queued(session, jobs)
        for task, job_id in jobs:
            if (task, job_id) in waiting:
                logger.warning("worker %s is gone; %s %s goes again", worker_id, task, job_id)
                send(task, job_id)
                resent.append(job_id)
        client.delete(routed_key(worker_id), held_key(worker_id))
        client.srem(WORKERS_SET, worker_id)
    return resent


def still_queued(session: Session, jobs: list[tuple[str, int]]) -> set[tuple[str, int]]:
    """The jobs among ``jobs`` whose rows no worker has claimed."""
    replies = [job_id for task, job_id in jobs if task == GENERATE_REPLY]
    items = [job_id for task, job_id in jobs if task != GENERATE_REPLY]
    queued_replies = set(
        session.scalars(
            select(Message.id).where(
                Message.id.in_(replies), Message.status == MessageStatus.QUEUED
            )
        )
    )
    queued_items = set(
        session.scalars(
            select(BatchItem.id).where(
                BatchItem.id.in_(items), BatchItem.status == ItemStatus.QUEUED
            )
        )
    )
    return {
        (task, job_id)
        for task, job_id in jobs
        if job_id in (queued_replies if task == GENERATE_REPLY else queued_items)
    }


def ended(session: Session, jobs: list[tuple[str, int]]) -> set[tuple[str, int]]:
    """The jobs among ``jobs`` whose rows are final or deleted: a task of theirs finds nothing
    to do."""
    replies = [job_id for task, job_id in jobs if task == GENERATE_REPLY]
    items = [job_id for task, job_id in jobs if task != GENERATE_REPLY]
    open_replies = set(
        session.scalars(
            select(Message.id).where(Message.id.in_(replies), Message.status.in_(REPLY_OPEN))
        )
    )
    open_items = set(
        session.scalars(
            select(BatchItem.id).where(BatchItem.id.in_(items), BatchItem.status.in_(ITEM_OPEN))
        )
    )
    return {
        (task, job_id)
        for task, job_id in jobs
        if job_id not in (open_replies if task == GENERATE_REPLY else open_items)
    }


def send_again(task: str, job_id: int) -> None:
    """To the queue of the job's model (with MODELS, read from its row)."""
    ctx = get_context()
    model = None
    if ctx.settings.models and task in MODEL_TASKS:
        table = Message.model_name if task == GENERATE_REPLY else BatchItem.model
        id_column = Message.id if task == GENERATE_REPLY else BatchItem.id
        with ctx.db.session() as session:
            model = session.scalar(select(table).where(id_column == job_id))
    queue = model_queue(ctx.settings, task, model)
    celery.send_task(task, args=[job_id], **({} if queue is None else {"queue": queue}))


def reap_forever(ctx: WorkerContext) -> None:
    interval = ctx.settings.lease_ttl_s / 2
    while True:
        try:
            reap(ctx, send_again)
        except Exception:  # the database or Redis away for a moment: the next pass retries
            logger.warning("reaper pass failed", exc_info=True)
        if _stopped.wait(interval):
            return


@worker_ready.connect
def start_reaper(**_kwargs: Any) -> None:
    thread = threading.Thread(target=reap_forever, args=(get_context(),), daemon=True)
    thread.name = "reaper"
    thread.start()


@worker_shutdown.connect
def stop_reaper(**_kwargs: Any) -> None:
    _stopped.set()
