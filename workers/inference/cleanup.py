"""What a job leaves in Redis when its row is gone."""

from __future__ import annotations

from sqlalchemy import select

from app.models import BatchItem, Message
from app.streams import TokenStreams
from workers.context import WorkerContext


def forget_if_deleted(
    ctx: WorkerContext,
    table: type[Message] | type[BatchItem],
    streams: TokenStreams | None,
    job_id: int,
) -> None:
    """A job whose row was deleted (its chat deleted) leaves no key behind: tokens written
    after the delete made its stream again, and its cancel flag has done its work."""
    with ctx.db.session() as session:
        if session.scalar(select(table.id).where(table.id == job_id)) is not None:
            return
    if streams is not None:
        streams.delete(job_id)
        streams.clear_cancel(job_id)
