"""Takes up the jobs of workers that died: a job a worker took (listed in its kind's running
set) whose lease lapsed while its row is still running gets its job sent again. Every worker
process runs this every LEASE_TTL_S / 2; a Redis lock keeps it to one pass at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import DocumentStatus, ItemStatus, MessageStatus
from app.jobs import GENERATE_BATCH_ITEM, GENERATE_COMPLETION, GENERATE_REPLY, INGEST_DOCUMENT
from app.models import BatchItem, Message, RagDocument
from app.redis_keys import REAPER_LOCK
from workers import celery
from workers.context import WorkerContext, get_context
from workers.leases import forget, live_leases, taken_jobs

logger = logging.getLogger(__name__)
Send = Callable[[str, int], None]
# for each kind of lease: the jobs among ``ids`` whose rows still run, with the task to resend
StillRunning = Callable[[Session, list[int]], dict[int, str]]
_stopped = threading.Event()


def replies_running(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.scalars(
        select(Message.id).where(Message.id.in_(ids), Message.status == MessageStatus.GENERATING)
    )
    return {int(i): GENERATE_REPLY for i in rows}


def items_running(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(BatchItem.id, BatchItem.batch_id).where(
            BatchItem.id.in_(ids), BatchItem.status == ItemStatus.RUNNING
        )
    )
    return {int(i): GENERATE_COMPLETION if b is None else GENERATE_BATCH_ITEM for i, b in rows}


def documents_running(session: Session, ids: list[int]) -> dict[int, str]:
    indexing = [DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING]
    rows = session.scalars(
        select(RagDocument.id).where(RagDocument.id.in_(ids), RagDocument.status.in_(indexing))
    )
    return {int(i): INGEST_DOCUMENT for i in rows}


KINDS: dict[str, StillRunning] = {
    "reply": replies_running,
    "item": items_running,
    "document": documents_running,
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
    return orphans


def send_again(task: str, job_id: int) -> None:
    celery.send_task(task, args=[job_id])


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
