"""Reply life-cycle steps shared by the REST API and the WebSocket: enqueue and cancel."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, NotFound, ServiceUnavailable
from app.extensions import services
from app.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    ChatSession,
    Message,
    MessageRole,
    MessageStatus,
    utcnow,
)
from app.quotas import check_reply_cap, open_api_completions, open_chat_replies

logger = logging.getLogger(__name__)


def cancel_reply(db: Session, message: Message) -> str:
    """Flags the reply for the worker; a reply no worker has started is cancelled right here."""
    if message.role != MessageRole.ASSISTANT:
        raise Conflict("only replies can be cancelled")
    if message.status in FINAL_STATUSES:
        raise Conflict(f"the reply is already {message.status}")
    streams = services().streams
    streams.request_cancel(message.id)
    result = db.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == MessageStatus.QUEUED)
        .values(status=MessageStatus.CANCELLED, completed_at=utcnow())
    )
    db.commit()
    if getattr(result, "rowcount", 0) == 1:
        streams.append(message.id, "cancelled", status=MessageStatus.CANCELLED.value)
        streams.clear_cancel(message.id)
        return MessageStatus.CANCELLED.value
    return "cancelling"


def admit_chat_reply(db: Session, user_id: int, session_id: int, settings: Settings) -> ChatSession:
    """The user's chat, if a new reply may be queued in it: one query on the path to a reply.

    404 for a chat that is not the user's, 409 while the chat has an open reply, 429 at the
    user's cap on open replies. Callers hold the user's quota lock.
    """
    open_in_chat = (
        select(Message.id)
        .where(Message.session_id == session_id, Message.status.in_(list(OPEN_STATUSES)))
        .exists()
    )
    row = db.execute(
        select(
            ChatSession,
            open_in_chat,
            open_chat_replies(user_id) + open_api_completions(user_id),
        ).where(ChatSession.id == session_id, ChatSession.owner_id == user_id)
    ).one_or_none()
    if row is None:
        raise NotFound("chat session not found")
    chat, has_open_reply, open_count = row
    if has_open_reply:
        raise Conflict("a reply is still being generated in this chat; wait or cancel it")
    check_reply_cap(int(open_count or 0), settings)
    return chat


def enqueue_reply(db: Session, reply: Message) -> None:
    """Sends the job after the rows are committed; a broker failure fails the reply visibly."""
    try:
        services().jobs.enqueue_reply(reply.id)
    except Exception as exc:
        logger.exception("could not enqueue reply %s", reply.id)
        reply.status = MessageStatus.ERROR
        reply.error = "the job queue is unavailable"
        reply.completed_at = utcnow()
        db.commit()
        raise ServiceUnavailable("the job queue is unavailable; try again shortly") from exc


def queue_position(db: Session, message_id: int) -> int:
    """1 when this reply is the next one a free worker takes (replies are served in order)."""
    ahead = db.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.role == MessageRole.ASSISTANT,
            Message.status == MessageStatus.QUEUED,
            Message.id <= message_id,
        )
    )
    return int(ahead or 0)
