"""The Batch API on the batch queue: a batch is a BatchJob with its endpoint, window and files,
its lines BatchItems (the machinery of /api/batches). Its OpenAI status comes from the job's:

    failed (the input did not validate: nothing queued)
    queued, running                          -> in_progress
    done / cancelled / expired, items running -> finalizing / cancelling / finalizing
    the same once the result files are made   -> completed / cancelled / expired

The input is validated within the create request, so a client never sees ``validating``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import BatchStatus
from app.errors import InvalidInput, NotFound
from app.models import BatchJob, as_utc, utcnow
from app.resources import Resources
from app.schemas.openai_api import (
    BatchCreateBody,
    BatchErrors,
    BatchObject,
    BatchStatusName,
    BatchUsage,
    RequestCounts,
)
from app.services import batch_jobs
from app.services.api_files import BATCH_INPUT, file_id, owned_file, parse_cursor
from app.services.batch_close import lock_batch, stop_batch, write_result_files
from app.services.models import require_model
from app.services.openai_batch_input import Models, parse_input_file
from app.services.openai_results import EMBEDDINGS

COMPLETION_WINDOWS = {"24h": timedelta(hours=24)}  # the one window OpenAI's API takes
_BATCH_ID = re.compile(r"batch_([1-9][0-9]{0,17})")


def batch_id(row_id: int) -> str:
    return f"batch_{row_id}"


def parse_batch_id(text: str) -> int:
    match = _BATCH_ID.fullmatch(text)
    if match is None:
        raise NotFound("batch not found")
    return int(match.group(1))


def owned_api_batch(db: Session, user_id: int, text_id: str) -> BatchJob:
    """A Batch API batch of the user's (a batch sent to /api/batches is not one)."""
    job = db.get(BatchJob, parse_batch_id(text_id))
    if job is None or job.owner_id != user_id or job.endpoint is None:
        raise NotFound("batch not found")
    return job


def create_batch(
    res: Resources, db: Session, user_id: int, body: BatchCreateBody, models: Models
) -> BatchJob:
    """Validates the input file whole: a batch of its lines queued, or a failed batch that
    lists the problems (OpenAI's shape for a file that does not validate)."""
    window = COMPLETION_WINDOWS[body.completion_window]
    source = owned_file(db, user_id, body.input_file_id)
    if source.purpose != BATCH_INPUT:
        raise InvalidInput("input_file_id must name a file uploaded with purpose 'batch'")
    parsed = parse_input_file(source.content, res.settings, body.endpoint, models)
    if body.endpoint != EMBEDDINGS:  # 503 while no worker serves a model the lines ask for
        for model in sorted({str(line.request["model"]) for line in parsed.lines}):
            require_model(res, model, "body.model")
    now = utcnow()
    fields: dict[str, Any] = {
        "endpoint": body.endpoint,
        "completion_window": body.completion_window,
        "input_file_id": source.id,
        "meta": body.metadata,
        "created_at": now,
        "expires_at": now + window,
    }
    if parsed.errors:
        job = BatchJob(
            owner_id=user_id,
            name=source.filename,
            total=0,
            status=BatchStatus.FAILED,
            errors=parsed.errors,
            failed_at=now,
            **fields,
        )
        db.add(job)
        db.commit()
        return job
    return batch_jobs.submit_batch(res, db, user_id, source.filename, parsed.lines, **fields)


def cancel_batch(db: Session, user_id: int, text_id: str) -> BatchJob:
    job = owned_api_batch(db, user_id, text_id)
    return batch_jobs.cancel_batch(db, user_id, job.id)


def list_batches(
    db: Session, user_id: int, limit: int, after: str | None
) -> tuple[Sequence[BatchJob], bool]:
    """Newest first; ``after`` is the last batch id of the previous page."""
    query = select(BatchJob).where(BatchJob.owner_id == user_id, BatchJob.endpoint.is_not(None))
    if after is not None:
        query = query.where(BatchJob.id < parse_cursor(after, parse_batch_id))
    rows = db.scalars(query.order_by(BatchJob.id.desc()).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(as_utc(moment).timestamp())


def openai_status(job: BatchJob) -> BatchStatusName:
    finalized = job.finalized_at is not None
    if job.status == BatchStatus.FAILED:
        return "failed"
    if job.status == BatchStatus.DONE:
        return "completed" if finalized else "finalizing"
    if job.status == BatchStatus.CANCELLED:
        return "cancelled" if finalized else "cancelling"
    if job.status == BatchStatus.EXPIRED:
        return "expired" if finalized else "finalizing"
    return "in_progress"


def batch_object(db: Session, job: BatchJob, models: Models) -> BatchObject:
    summary = batch_jobs.summarize(db, job)
    counts = summary.counts
    status = openai_status(job)
    finalized = _epoch(job.finalized_at)
    errors = BatchErrors.model_validate({"data": job.errors}) if job.errors else None
    endpoint = job.endpoint or ""
    usage = summary.usage
    return BatchObject(
        id=batch_id(job.id),
        endpoint=endpoint,
        model=batch_jobs.batch_model(db, job) or models.for_endpoint(endpoint)[0],
        errors=errors,
        input_file_id=file_id(job.input_file_id or 0),
        completion_window=job.completion_window or "24h",
        status=status,
        output_file_id=file_id(job.output_file_id) if job.output_file_id else None,
        error_file_id=file_id(job.error_file_id) if job.error_file_id else None,
        created_at=_epoch(job.created_at) or 0,
        in_progress_at=None if status == "failed" else _epoch(job.created_at),
        expires_at=_epoch(job.expires_at),
        finalizing_at=_epoch(job.expired_at) if job.expired_at else finalized,
        completed_at=finalized if status == "completed" else None,
        failed_at=_epoch(job.failed_at),
        expired_at=_epoch(job.expired_at) if status == "expired" else None,
        cancelling_at=_epoch(job.cancelled_at),
        cancelled_at=finalized if status == "cancelled" else None,
        request_counts=RequestCounts(
            total=job.total, completed=counts.done, failed=counts.failed + counts.cancelled
        ),
        usage=BatchUsage(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            total_tokens=usage.prompt_tokens + usage.completion_tokens,
        ),
        metadata=job.meta,
    )


def expire_due(session: Session, now: datetime) -> list[int]:
    """The sweep (every worker's reaper pass, ``now`` injectable): batches past their window
    expire (what is queued is dropped, what runs finishes), and a Batch API batch that stopped
    with nothing running gets its result files if it has none yet. Returns the expired ids."""
    due = session.scalars(
        select(BatchJob.id).where(
            BatchJob.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
            BatchJob.expires_at.is_not(None),
            BatchJob.expires_at <= now,
        )
    ).all()
    expired = []
    for job_id in due:
        if stop_batch(session, job_id, BatchStatus.EXPIRED, now):
            expired.append(job_id)
        session.commit()
    unfinalized = session.scalars(
        select(BatchJob.id).where(
            BatchJob.endpoint.is_not(None),
            BatchJob.finalized_at.is_(None),
            BatchJob.status.in_([BatchStatus.DONE, BatchStatus.CANCELLED, BatchStatus.EXPIRED]),
        )
    ).all()
    for job_id in unfinalized:
        lock_batch(session, job_id)
        write_result_files(session, job_id, now)
        session.commit()
    return expired
