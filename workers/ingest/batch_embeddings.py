"""Batch API embeddings lines, on the ingest workers (they hold the embedding model).

Claimed like every batch item: under a lease (a dead worker's line is sent again by the
reaper, kind "embedding"), the attempt counted, the final write conditional on the attempt;
the last line to finish closes its batch and makes its result files.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import func, update

from app.enums import OPEN_ITEM_STATUSES, BatchStatus, ItemStatus
from app.jobs import EMBED_BATCH_ITEM
from app.models import BatchItem, BatchJob, utcnow
from app.services.batch_close import close_if_finished
from app.services.batch_jobs import EMBEDDING_INPUT
from workers import celery
from workers.context import WorkerContext, get_context
from workers.ingest.embedder import Embedder, get_embedder
from workers.leases import leased

logger = logging.getLogger(__name__)
LEASE_KIND = "embedding"


@celery.task(name=EMBED_BATCH_ITEM)
def embed_batch_item(item_id: int) -> None:
    run_embedding_item(get_context(), get_embedder(), item_id)


def claim(ctx: WorkerContext, item_id: int) -> tuple[int, int | None, dict[str, Any]] | None:
    with ctx.db.session() as session:
        row = session.execute(
            update(BatchItem)
            .where(BatchItem.id == item_id, BatchItem.status.in_(list(OPEN_ITEM_STATUSES)))
            .values(
                status=ItemStatus.RUNNING,
                attempts=BatchItem.attempts + 1,
                started_at=func.coalesce(BatchItem.started_at, utcnow()),
            )
            .returning(BatchItem.attempts, BatchItem.batch_id, BatchItem.request),
            execution_options={"synchronize_session": False},
        ).one_or_none()
        if row is None:
            return None
        attempt, batch_id, request = row
        if batch_id is not None:
            session.execute(
                update(BatchJob)
                .where(BatchJob.id == batch_id, BatchJob.status == BatchStatus.QUEUED)
                .values(status=BatchStatus.RUNNING),
                execution_options={"synchronize_session": False},
            )
    return int(attempt), batch_id, dict(request)


def embed(
    ctx: WorkerContext, embedder: Embedder, attempt: int, request: dict[str, Any]
) -> dict[str, Any]:
    """The final columns: the vectors (as JSON) and the token count, or the error."""
    if attempt > ctx.settings.reply_attempts:
        return {"status": ItemStatus.FAILED, "error": f"failed after {attempt - 1} attempts"}
    texts: list[str] = list(request.get(EMBEDDING_INPUT, []))
    try:
        vectors = embedder.encode(texts)
        encoded = embedder.tokenizer(texts, truncation=True, max_length=embedder.max_tokens)
    except Exception:
        logger.exception("embedding failed for a batch item")
        return {"status": ItemStatus.FAILED, "error": "embedding failed in the worker"}
    return {
        "status": ItemStatus.DONE,
        "output": json.dumps(vectors),
        "prompt_tokens": sum(len(ids) for ids in encoded["input_ids"]),
        "completion_tokens": 0,
        "finish_reason": "stop",
    }


def run_embedding_item(ctx: WorkerContext, embedder: Embedder, item_id: int) -> None:
    ttl = ctx.settings.lease_ttl_s
    with leased(ctx.streams.client, LEASE_KIND, item_id, ttl) as lease:
        if lease is None:
            logger.info("embedding item %s is running in another worker", item_id)
            return
        claimed = claim(ctx, item_id)
        if claimed is None:
            logger.info("embedding item %s is already final (or deleted)", item_id)
            return
        attempt, batch_id, request = claimed
        final = embed(ctx, embedder, attempt, request)
        if lease.lost.is_set():
            logger.warning("embedding item %s: lease lost, this attempt stored nothing", item_id)
            return
        with ctx.db.session() as session:
            stored = session.execute(
                update(BatchItem)
                .where(
                    BatchItem.id == item_id,
                    BatchItem.status == ItemStatus.RUNNING,
                    BatchItem.attempts == attempt,
                )
                .values(completed_at=utcnow(), **final),
                execution_options={"synchronize_session": False},
            )
            if getattr(stored, "rowcount", 0) == 1 and batch_id is not None:
                close_if_finished(session, batch_id)
