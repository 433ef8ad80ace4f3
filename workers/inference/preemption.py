"""Chat before batch, inside a running batch item too: between tokens the item checks whether
a chat job waits on ``inference``; if one does, the item is handed back to ``batch`` and the
worker takes the chat job next (queue order). Work already done on the item is dropped.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import update

from app.enums import ItemStatus
from app.jobs import GENERATE_BATCH_ITEM, INTERACTIVE_QUEUE, queue_depth
from app.models import BatchItem
from workers import celery
from workers.context import WorkerContext

logger = logging.getLogger(__name__)


def takes_chat_jobs() -> bool:
    """Only a worker that consumes ``inference`` itself yields to it (no batch-only livelock)."""
    return INTERACTIVE_QUEUE in (celery.amqp.queues.consume_from or {})


def chat_waiting(client: redis.Redis) -> bool:
    """One Redis round trip: is any interactive job queued?"""
    return queue_depth(client, INTERACTIVE_QUEUE) > 0


def requeue_job(item_id: int) -> None:
    celery.send_task(GENERATE_BATCH_ITEM, args=[item_id])


def requeue_item(ctx: WorkerContext, item_id: int, attempt: int) -> None:
    """Sends the item's job again, then gives the claim back (the attempt does not count).

    In this order a crash in between leaves a job for a running item, which claims it again.
    """
    requeue_job(item_id)
    with ctx.db.session() as session:
        session.execute(
            update(BatchItem)
            .where(
                BatchItem.id == item_id,
                BatchItem.status == ItemStatus.RUNNING,
                BatchItem.attempts == attempt,
            )
            .values(status=ItemStatus.QUEUED, attempts=BatchItem.attempts - 1)
        )
    logger.info("batch item %s yielded to a waiting chat reply", item_id)
