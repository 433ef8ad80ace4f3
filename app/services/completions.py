"""OpenAI API completions ride the chat path: a BatchItem row without a batch is queued on
``inference`` and its tokens come back on the Redis stream ``qc:stream:item:{id}``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.enums import ItemStatus
from app.errors import GatewayTimeout, GenerationFailed
from app.models import BatchItem, utcnow
from app.resources import Resources
from app.services import budgets
from app.services.dispatch import send_or_fail
from app.services.work_caps import ensure_reply_capacity, user_quota_lock
from app.streams import StreamEvent, TokenStreams

READ_BLOCK_MS = 1000


class CompletionTimeout(Exception):
    """No final event within the wait limit."""


def completion_streams(res: Resources) -> TokenStreams:
    return TokenStreams.for_completions(res.redis, res.settings)


def queue_completion(
    res: Resources,
    db: Session,
    owner_id: int,
    request: dict[str, Any],
    model: str,
    api_key_id: int | None = None,
) -> BatchItem:
    """Commits the item, then sends its job; a broker failure fails the item visibly."""
    with user_quota_lock(res.redis, owner_id):
        ensure_reply_capacity(db, owner_id, res.settings)
        wanted = int(request["sampling"]["max_tokens"])
        item = BatchItem(
            batch_id=None,
            owner_id=owner_id,
            request=request,
            status=ItemStatus.QUEUED,
            reserved_tokens=budgets.admit(db, owner_id, wanted),
            api_key_id=api_key_id,
            model=model,
        )
        db.add(item)
        db.commit()

    def mark_failed(reason: str) -> None:
        item.status = ItemStatus.FAILED
        item.error = reason
        item.completed_at = utcnow()

    send_or_fail(
        db,
        lambda: res.jobs.enqueue_completion(item.id, model),
        mark_failed,
        f"completion {item.id}",
    )
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


def wait_for_completion(res: Resources, db: Session, item: BatchItem) -> BatchItem:
    """Blocks until the item is final; a wait past the limit cancels it (504), a failure is 502."""
    streams = completion_streams(res)
    try:
        for _event in follow(streams, item.id, res.settings.api_wait_timeout_s):
            pass
    except CompletionTimeout as exc:
        streams.request_cancel(item.id)
        raise GatewayTimeout(f"the completion did not finish: {exc}") from exc
    db.refresh(item)
    if item.status != ItemStatus.DONE:
        raise GenerationFailed(f"the completion ended as {item.status}: {item.error or ''}")
    return item
