"""The end of a batch: the last item to finish closes it, and a Batch API batch that takes no
more work (done, cancelled, expired) gets its output and error files once nothing of it runs.

Every caller holds the batch row's lock (``lock_batch``) in the transaction that writes, so two
items finishing together, or an item finishing while the batch is cancelled or expires, leave
exactly one closing write and one pair of files.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from app.enums import CLOSING_BATCH_STATUSES, OPEN_ITEM_STATUSES, BatchStatus, ItemStatus
from app.models import BatchItem, BatchJob, utcnow
from app.services.api_files import store_result_file
from app.services.openai_results import result_files

CANCEL_CHUNK = 1000  # item ids per UPDATE when a batch stops


def lock_batch(session: Session, batch_id: int) -> None:
    session.execute(select(BatchJob.id).where(BatchJob.id == batch_id).with_for_update())


def has_open_items(batch_id: int) -> Exists:
    return exists().where(
        BatchItem.batch_id == batch_id, BatchItem.status.in_(list(OPEN_ITEM_STATUSES))
    )


def close_if_finished(session: Session, batch_id: int, now: datetime | None = None) -> None:
    """After an item's final write: the batch is done when no item is open (then its files)."""
    lock_batch(session, batch_id)
    session.execute(
        update(BatchJob)
        .where(
            BatchJob.id == batch_id,
            BatchJob.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
            ~has_open_items(batch_id),
        )
        .values(status=BatchStatus.DONE),
        execution_options={"synchronize_session": False},
    )
    write_result_files(session, batch_id, now)


def stop_batch(session: Session, batch_id: int, status: BatchStatus, now: datetime) -> bool:
    """Cancels or expires a running batch: its queued items end as cancelled (running ones
    finish); False when it had already stopped."""
    lock_batch(session, batch_id)
    moment = {"cancelled_at": now} if status == BatchStatus.CANCELLED else {"expired_at": now}
    stopped = session.execute(
        update(BatchJob)
        .where(
            BatchJob.id == batch_id, BatchJob.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING])
        )
        .values(status=status, **moment),
        execution_options={"synchronize_session": False},
    )
    if getattr(stopped, "rowcount", 0) != 1:
        return False
    # the queued items, but none another transaction holds: a worker claiming one (it runs and
    # finishes) or writing one's final state takes the batch row after its item, so waiting for
    # its item here, batch row held, would deadlock (PostgreSQL; SQLite has one writer)
    queued = session.scalars(
        select(BatchItem.id)
        .where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.QUEUED)
        .with_for_update(skip_locked=True)
    ).all()
    for start in range(0, len(queued), CANCEL_CHUNK):
        session.execute(
            update(BatchItem)
            .where(
                BatchItem.id.in_(queued[start : start + CANCEL_CHUNK]),
                BatchItem.status == ItemStatus.QUEUED,
            )
            .values(status=ItemStatus.CANCELLED, completed_at=now),
            execution_options={"synchronize_session": False},
        )
    write_result_files(session, batch_id, now)
    return True


def write_result_files(session: Session, batch_id: int, now: datetime | None = None) -> bool:
    """A Batch API batch that takes no more work and has nothing running gets its files."""
    job = session.get(BatchJob, batch_id, populate_existing=True)
    if job is None or job.endpoint is None or job.finalized_at is not None:
        return False
    if job.status not in CLOSING_BATCH_STATUSES:
        return False
    if session.scalar(select(has_open_items(batch_id))):
        return False
    items = session.scalars(
        select(BatchItem).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)
    ).all()
    output, errors = result_files(job.endpoint, job.status, items)
    if output:
        name = f"batch_{job.id}_output.jsonl"
        job.output_file_id = store_result_file(session, job.owner_id, name, output).id
    if errors:
        name = f"batch_{job.id}_error.jsonl"
        job.error_file_id = store_result_file(session, job.owner_id, name, errors).id
    job.finalized_at = now or utcnow()
    session.flush()
    return True
