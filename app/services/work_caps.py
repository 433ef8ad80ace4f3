"""Per-user caps on open work (replies, completions, batch items), so that one user cannot
flood the queues: 429 with Retry-After. HTTP rate limits live in app/api/rate_limits.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.enums import OPEN_ITEM_STATUSES, OPEN_STATUSES, MessageRole
from app.errors import TooManyRequests
from app.models import BatchItem, ChatSession, Message
from app.redis_keys import quota_lock_key


def open_chat_replies(user_id: int) -> ScalarSelect[int]:
    """Queued or generating chat replies of the user, as a subquery."""
    return (
        select(func.count())
        .select_from(Message)
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(
            ChatSession.owner_id == user_id,
            Message.role == MessageRole.ASSISTANT,
            Message.status.in_(list(OPEN_STATUSES)),
        )
        .scalar_subquery()
    )


def open_items(user_id: int, *, in_batches: bool) -> ScalarSelect[int]:
    """Unfinished batch items (or, not in batches, OpenAI API completions), as a subquery."""
    batch_id = BatchItem.batch_id.is_not(None) if in_batches else BatchItem.batch_id.is_(None)
    return (
        select(func.count())
        .select_from(BatchItem)
        .where(
            BatchItem.owner_id == user_id,
            batch_id,
            BatchItem.status.in_(list(OPEN_ITEM_STATUSES)),
        )
        .scalar_subquery()
    )


def open_api_completions(user_id: int) -> ScalarSelect[int]:
    return open_items(user_id, in_batches=False)


def open_replies(db: Session, user_id: int) -> int:
    """Queued or generating chat replies plus unfinished OpenAI API completions (one query)."""
    return int(db.scalar(select(open_chat_replies(user_id) + open_api_completions(user_id))) or 0)


def open_batch_items(db: Session, user_id: int) -> int:
    return int(db.scalar(select(open_items(user_id, in_batches=True))) or 0)


def ensure_reply_capacity(db: Session, user_id: int, settings: Settings) -> None:
    check_reply_cap(open_replies(db, user_id), settings)


def check_reply_cap(open_count: int, settings: Settings) -> None:
    cap = settings.max_open_replies_per_user
    if open_count >= cap:
        raise TooManyRequests(
            f"you have {cap} replies queued or generating, the most allowed; "
            "wait for one to finish",
            retry_after=settings.cap_retry_after_s,
        )


def ensure_batch_capacity(db: Session, user_id: int, new_items: int, settings: Settings) -> None:
    cap = settings.max_open_batch_items_per_user
    already = open_batch_items(db, user_id)
    if already + new_items > cap:
        raise TooManyRequests(
            f"this batch would put {already + new_items} of your batch items in the queue; "
            f"the most allowed is {cap}",
            retry_after=settings.cap_retry_after_s * 12,
        )


@contextmanager
def user_quota_lock(client: redis.Redis, user_id: int) -> Iterator[None]:
    """Holds one user's check-then-insert of open work alone, across every web process.

    Without it, simultaneous requests all count the same open work and all pass the cap (and
    the one-open-reply-per-chat rule). The lock's timeout frees it if a holder dies.
    """
    lock = client.lock(quota_lock_key(user_id), timeout=10, blocking_timeout=5)
    if not lock.acquire():
        raise TooManyRequests("too many simultaneous requests; try again", retry_after=1)
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:  # held past its timeout; nothing of ours to release
            pass
