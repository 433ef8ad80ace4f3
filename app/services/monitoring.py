"""Figures an operator watches, read from the database: jobs by kind and state, chunks stored."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enums import DocumentStatus, MessageRole
from app.models import BatchItem, Message, RagDocument


def jobs_by_state(db: Session) -> list[tuple[str, str, int]]:
    """(kind, state, count) for chat replies, batch items, API completions and documents."""
    found: list[tuple[str, str, int]] = []
    replies = db.execute(
        select(Message.status, func.count())
        .where(Message.role == MessageRole.ASSISTANT)
        .group_by(Message.status)
    )
    found += [("reply", str(state), int(count)) for state, count in replies]
    is_api = BatchItem.batch_id.is_(None)
    items = db.execute(
        select(is_api, BatchItem.status, func.count()).group_by(is_api, BatchItem.status)
    )
    found += [
        ("api" if api else "batch_item", str(state), int(count)) for api, state, count in items
    ]
    documents = db.execute(select(RagDocument.status, func.count()).group_by(RagDocument.status))
    found += [("document", str(state), int(count)) for state, count in documents]
    return found


def chunks_stored(db: Session) -> int:
    return int(db.scalar(select(func.sum(RagDocument.chunks_done))) or 0)


def ingest_backlog(db: Session) -> tuple[int, int]:
    """Documents not yet indexed (queued, extracting, embedding) and their chunks still to embed
    (known once extraction has counted them)."""
    waiting = (DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING)
    documents, chunks = db.execute(
        select(
            func.count(),
            func.coalesce(func.sum(RagDocument.chunk_count - RagDocument.chunks_done), 0),
        ).where(RagDocument.status.in_(waiting))
    ).one()
    return int(documents), int(chunks)
