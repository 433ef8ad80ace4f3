"""Batch jobs: submit parsed lines as queued items, summarize progress, list results, cancel.

The machinery of both /api/batches and the Batch API (/v1/batches)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.enums import FINAL_ITEM_STATUSES, BatchStatus, ItemStatus
from app.errors import Conflict, InvalidInput
from app.models import BatchItem, BatchJob, PromptTemplate, as_utc, utcnow
from app.resources import Resources
from app.schemas.batches import BatchOut, ItemCounts, TokenTotals
from app.services import budgets
from app.services.batch_close import stop_batch
from app.services.batch_input import ParsedLine
from app.services.dispatch import send_or_fail
from app.services.ownership import owned_batch
from app.services.work_caps import ensure_batch_capacity, user_quota_lock

EMBEDDING_INPUT = "embedding_input"  # the stored request of a Batch API embeddings line


def check_templates(db: Session, names: set[str]) -> None:
    if not names:
        return
    known = set(
        db.scalars(
            select(PromptTemplate.name).where(PromptTemplate.name.in_(names), PromptTemplate.active)
        )
    )
    missing = sorted(names - known)
    if missing:
        raise InvalidInput(f"unknown or inactive template(s): {', '.join(missing)}")


def submit_batch(
    res: Resources,
    db: Session,
    user_id: int,
    name: str,
    lines: Sequence[ParsedLine],
    api_key_id: int | None = None,
    **job_fields: Any,
) -> BatchJob:
    """Stores the job and its items under the user's cap, then sends one job per item
    (embedding requests to the ingest workers, which hold the embedding model).

    ``job_fields``: the Batch API's columns of the job (endpoint, window, files, metadata).
    """
    check_templates(db, {line.template for line in lines if line.template})
    with user_quota_lock(res.redis, user_id):
        ensure_batch_capacity(db, user_id, len(lines), res.settings)
        wanted = [int(line.request.get("sampling", {}).get("max_tokens", 0)) for line in lines]
        reserved = budgets.admit_batch(db, user_id, wanted)
        job = BatchJob(owner_id=user_id, name=name, total=len(lines), **job_fields)
        db.add(job)
        db.flush()
        items = [
            BatchItem(
                batch_id=job.id,
                owner_id=user_id,
                line=line.line,
                custom_id=line.custom_id,
                request=line.request,
                status=ItemStatus.QUEUED,
                reserved_tokens=reserve,
                api_key_id=api_key_id,
                model=line.request.get("model"),
            )
            for line, reserve in zip(lines, reserved, strict=True)
        ]
        db.add_all(items)
        db.commit()

    def mark_failed(reason: str) -> None:
        db.execute(
            update(BatchItem)
            .where(BatchItem.batch_id == job.id, BatchItem.status == ItemStatus.QUEUED)
            .values(status=ItemStatus.FAILED, error=reason, completed_at=utcnow())
        )
        job.status = BatchStatus.DONE

    embeddings = [item.id for item in items if EMBEDDING_INPUT in item.request]
    generations: dict[str | None, list[int]] = defaultdict(list)  # by model: its own queue
    for item in items:
        if EMBEDDING_INPUT not in item.request:
            generations[item.model].append(item.id)

    def send() -> None:
        for model, ids in generations.items():
            res.jobs.enqueue_batch_items(ids, model, job.id)
        if embeddings:
            res.jobs.enqueue_embedding_items(embeddings)

    send_or_fail(db, send, mark_failed, f"batch {job.id}")
    return job


def batch_model(db: Session, job: BatchJob) -> str | None:
    """The model of the batch's first line (None: the default model's, or an empty batch)."""
    return db.scalar(
        select(BatchItem.model).where(BatchItem.batch_id == job.id).order_by(BatchItem.id).limit(1)
    )


def list_batches(db: Session, user_id: int, limit: int, offset: int) -> Sequence[BatchJob]:
    return db.scalars(
        select(BatchJob)
        .where(BatchJob.owner_id == user_id)
        .order_by(BatchJob.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def cancel_batch(db: Session, user_id: int, batch_id: int) -> BatchJob:
    """Cancels the queued items; running items finish."""
    job = owned_batch(db, user_id, batch_id)
    if not stop_batch(db, job.id, BatchStatus.CANCELLED, utcnow()):
        db.rollback()
        db.refresh(job)
        raise Conflict(f"the batch is already {job.status}")
    db.commit()
    db.refresh(job)
    return job


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def summarize(db: Session, job: BatchJob) -> BatchOut:
    """Counts by status, token totals and timings, from one grouped query."""
    rows = db.execute(
        select(
            BatchItem.status,
            func.count(),
            func.coalesce(func.sum(BatchItem.prompt_tokens), 0),
            func.coalesce(func.sum(BatchItem.completion_tokens), 0),
            func.min(BatchItem.started_at),
            func.max(BatchItem.completed_at),
        )
        .where(BatchItem.batch_id == job.id)
        .group_by(BatchItem.status)
    ).all()
    counts = ItemCounts(**{str(row[0]): int(row[1]) for row in rows})
    usage = TokenTotals(
        prompt_tokens=sum(int(row[2] or 0) for row in rows),
        completion_tokens=sum(int(row[3] or 0) for row in rows),
    )
    starts = [moment for row in rows if (moment := _utc(row[4])) is not None]
    ends = [moment for row in rows if (moment := _utc(row[5])) is not None]
    started = min(starts, default=None)
    finished = counts.done + counts.failed + counts.cancelled
    completed = None
    if finished == job.total:
        completed = max(ends, default=None) or _utc(job.cancelled_at)
    end = completed or datetime.now(UTC)
    return BatchOut(
        id=job.id,
        name=job.name,
        status=job.status,
        total=job.total,
        counts=counts,
        progress=round(finished / job.total, 4) if job.total else 1.0,
        usage=usage,
        created_at=as_utc(job.created_at),
        started_at=started,
        completed_at=completed,
        elapsed_s=round((end - started).total_seconds(), 3) if started else None,
    )


def result_line(item: BatchItem) -> str:
    usage: dict[str, Any] | None = None
    if item.prompt_tokens is not None:
        completion = item.completion_tokens or 0
        usage = {
            "prompt_tokens": item.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": item.prompt_tokens + completion,
        }
    return json.dumps(
        {
            "custom_id": item.custom_id,
            "line": item.line,
            "status": item.status,
            "output": item.output if item.status == ItemStatus.DONE else None,
            "finish_reason": item.finish_reason,
            "usage": usage,
            "error": item.error,
        },
        ensure_ascii=False,
    )


def result_lines(db: Session, job: BatchJob) -> Iterator[str]:
    """Finished items as JSONL lines, in file order (also while the batch runs)."""
    items = db.scalars(
        select(BatchItem)
        .where(BatchItem.batch_id == job.id, BatchItem.status.in_(list(FINAL_ITEM_STATUSES)))
        .order_by(BatchItem.id)
    ).all()
    return (result_line(item) + "\n" for item in items)
