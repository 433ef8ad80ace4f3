"""Batch generation: submit a JSONL file, follow its progress, download results, cancel."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.api.batch_schemas import (
    BatchList,
    BatchOut,
    BatchQuery,
    ItemCounts,
    PageQuery,
    TokenTotals,
)
from app.api.openapi import documented
from app.api.validation import parse_query, respond
from app.api_keys import key_or_jwt_user
from app.batches import parse_batch
from app.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from app.extensions import get_db, services
from app.models import (
    FINAL_ITEM_STATUSES,
    BatchItem,
    BatchJob,
    BatchStatus,
    ItemStatus,
    PromptTemplate,
    utcnow,
)
from app.quotas import ensure_batch_capacity, user_quota_lock

logger = logging.getLogger(__name__)
bp = Blueprint("batches", __name__, url_prefix="/api/batches")
JSONL_TYPES = ("application/jsonl", "application/x-ndjson", "application/x-jsonlines", "text/plain")


def owned_batch(db: Session, user_id: int, batch_id: int) -> BatchJob:
    job = db.get(BatchJob, batch_id)
    if job is None or job.owner_id != user_id:
        raise NotFound("batch not found")
    return job


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def batch_out(db: Session, job: BatchJob) -> BatchOut:
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
    starts = [moment for row in rows if (moment := _aware(row[4])) is not None]
    ends = [moment for row in rows if (moment := _aware(row[5])) is not None]
    started = min(starts, default=None)
    finished = counts.done + counts.failed + counts.cancelled
    completed = None
    if finished == job.total:
        completed = max(ends, default=None) or _aware(job.cancelled_at)
    end = completed or datetime.now(UTC)
    return BatchOut(
        id=job.id,
        name=job.name,
        status=job.status,
        total=job.total,
        counts=counts,
        progress=round(finished / job.total, 4) if job.total else 1.0,
        usage=usage,
        created_at=_aware(job.created_at) or job.created_at,
        started_at=started,
        completed_at=completed,
        elapsed_s=round((end - started).total_seconds(), 3) if started else None,
    )


def uploaded_bytes() -> tuple[bytes, str | None]:
    """The JSONL from a multipart ``file`` field or the raw request body."""
    request.max_content_length = services().settings.batch_max_bytes + 64 * 1024
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("send the JSONL file in the multipart field 'file'")
        return upload.read(), upload.filename
    if request.mimetype not in JSONL_TYPES:
        raise InvalidInput(
            "send a JSONL file: multipart field 'file', or the body with Content-Type "
            "application/jsonl"
        )
    return request.get_data(), None


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


@bp.post("")
@documented(
    summary="Submit a JSONL batch (validated whole, then queued)",
    query=BatchQuery,
    response=BatchOut,
    status=202,
)
def submit_batch() -> tuple[Response, int]:
    user = key_or_jwt_user()
    settings = services().settings
    query = parse_query(BatchQuery)
    data, filename = uploaded_bytes()
    lines = parse_batch(data, settings)
    db = get_db()
    check_templates(db, {line.template for line in lines if line.template})
    with user_quota_lock(services().redis, user.id):
        ensure_batch_capacity(db, user.id, len(lines), settings)
        job = BatchJob(owner_id=user.id, name=query.name or filename or "batch", total=len(lines))
        db.add(job)
        db.flush()
        items = [
            BatchItem(
                batch_id=job.id,
                owner_id=user.id,
                line=line.line,
                custom_id=line.custom_id,
                request=line.request,
                status=ItemStatus.QUEUED,
            )
            for line in lines
        ]
        db.add_all(items)
        db.commit()
    try:
        services().jobs.enqueue_batch_items([item.id for item in items])
    except Exception as exc:
        logger.exception("could not enqueue batch %s", job.id)
        fail_unsent(db, job)
        raise ServiceUnavailable("the job queue is unavailable; try again shortly") from exc
    return respond(batch_out(db, job), 202)


def fail_unsent(db: Session, job: BatchJob) -> None:
    db.execute(
        update(BatchItem)
        .where(BatchItem.batch_id == job.id, BatchItem.status == ItemStatus.QUEUED)
        .values(
            status=ItemStatus.FAILED, error="the job queue is unavailable", completed_at=utcnow()
        )
    )
    job.status = BatchStatus.DONE
    db.commit()


@bp.get("")
@documented(summary="Your batches, newest first", query=PageQuery, response=BatchList)
def list_batches() -> tuple[Response, int]:
    user = key_or_jwt_user()
    page = parse_query(PageQuery)
    db = get_db()
    jobs = db.scalars(
        select(BatchJob)
        .where(BatchJob.owner_id == user.id)
        .order_by(BatchJob.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    return respond(BatchList(items=[batch_out(db, job) for job in jobs]))


@bp.get("/<int:batch_id>")
@documented(summary="A batch's status, counts, progress and timings", response=BatchOut)
def show_batch(batch_id: int) -> tuple[Response, int]:
    db = get_db()
    return respond(batch_out(db, owned_batch(db, key_or_jwt_user().id, batch_id)))


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


@bp.get("/<int:batch_id>/results")
@documented(summary="Finished items as JSONL, in file order (also while the batch runs)")
def batch_results(batch_id: int) -> Response:
    db = get_db()
    job = owned_batch(db, key_or_jwt_user().id, batch_id)
    items = db.scalars(
        select(BatchItem)
        .where(BatchItem.batch_id == job.id, BatchItem.status.in_(list(FINAL_ITEM_STATUSES)))
        .order_by(BatchItem.id)
    ).all()

    def lines() -> Iterator[str]:
        for item in items:
            yield result_line(item) + "\n"

    response = Response(lines(), mimetype="application/jsonl")
    response.headers["Content-Disposition"] = f'attachment; filename="batch-{job.id}-results.jsonl"'
    return response


@bp.post("/<int:batch_id>/cancel")
@documented(
    summary="Cancel the batch's queued items; running items finish", response=BatchOut, status=202
)
def cancel_batch(batch_id: int) -> tuple[Response, int]:
    db = get_db()
    job = owned_batch(db, key_or_jwt_user().id, batch_id)
    if job.status in (BatchStatus.DONE, BatchStatus.CANCELLED):
        raise Conflict(f"the batch is already {job.status}")
    now = utcnow()
    db.execute(
        update(BatchItem)
        .where(BatchItem.batch_id == job.id, BatchItem.status == ItemStatus.QUEUED)
        .values(status=ItemStatus.CANCELLED, completed_at=now)
    )
    job.status = BatchStatus.CANCELLED
    job.cancelled_at = now
    db.commit()
    return respond(batch_out(db, job), 202)
