"""OpenAI API completions ride the chat path: a BatchItem row without a batch is queued on
``inference`` and its tokens come back on the Redis stream ``qc:stream:item:{id}``."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable
from app.extensions import services
from app.models import BatchItem, ItemStatus, utcnow
from app.quotas import ensure_reply_capacity, user_quota_lock
from app.streams import ITEM_STREAM_NAMESPACE, StreamEvent, TokenStreams

logger = logging.getLogger(__name__)
READ_BLOCK_MS = 1000


class CompletionTimeout(Exception):
    """No final event within the wait limit."""


def item_streams() -> TokenStreams:
    settings = services().settings
    return TokenStreams(
        services().redis,
        final_ttl_s=settings.stream_ttl_s,
        live_ttl_s=settings.stream_live_ttl_s,
        namespace=ITEM_STREAM_NAMESPACE,
    )


def queue_completion(db: Session, owner_id: int, request: dict[str, Any]) -> BatchItem:
    """Commits the item, then sends its job; a broker failure fails the item visibly."""
    with user_quota_lock(services().redis, owner_id):
        ensure_reply_capacity(db, owner_id, services().settings)
        item = BatchItem(
            batch_id=None, owner_id=owner_id, request=request, status=ItemStatus.QUEUED
        )
        db.add(item)
        db.commit()
    try:
        services().jobs.enqueue_completion(item.id)
    except Exception as exc:
        logger.exception("could not enqueue completion %s", item.id)
        item.status = ItemStatus.FAILED
        item.error = "the job queue is unavailable"
        item.completed_at = utcnow()
        db.commit()
        raise ServiceUnavailable("the job queue is unavailable; try again shortly") from exc
    return item


def follow(streams: TokenStreams, item_id: int, timeout_s: float) -> Iterator[StreamEvent]:
    """The item's events in order, up to and including the final one."""
    last = "0-0"
    deadline = time.monotonic() + timeout_s
    while True:
        events = streams.read(item_id, last, block_ms=READ_BLOCK_MS)
        for event in events:
            yield event
            if event.is_final:
                return
        if events:
            last = events[-1].id
            deadline = time.monotonic() + timeout_s
        elif time.monotonic() > deadline:
            raise CompletionTimeout(f"no result within {timeout_s:.0f} s")
