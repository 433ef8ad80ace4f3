"""Chat replies: queue one for a new or edited message or a regenerate, cancel one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.enums import FINAL_STATUSES, OPEN_STATUSES, MessageRole, MessageStatus
from app.errors import Conflict, NotFound
from app.models import ChatSession, Message, utcnow
from app.resources import Resources
from app.services import budgets
from app.services.branches import shown_leaf
from app.services.chat_files import bind_files, reading
from app.services.chat_tokens import vocabulary_reader
from app.services.dispatch import send_or_fail
from app.services.message_fit import check_fit
from app.services.models import require_model
from app.services.ownership import owned_message
from app.services.prompt_setup import load_prompt_setup
from app.services.routing import chat_worker, mark_routed
from app.services.work_caps import (
    check_reply_cap,
    open_api_completions,
    open_chat_replies,
    user_quota_lock,
)
from app.streams import TokenStreams


@dataclass(frozen=True)
class QueuedReply:
    user_message_id: int | None
    reply: Message


def send_message(
    res: Resources,
    db: Session,
    user_id: int,
    session_id: int,
    content: str,
    *,
    sampling: dict[str, Any],
    use_knowledge_base: bool | None,
    edited: Message | None = None,
    file_ids: Sequence[int] = (),
) -> QueuedReply:
    """Stores the user's message and a queued reply, then sends the reply's job. The message
    follows the branch the chat shows, or is a new version of ``edited`` (a question of it).
    While one of the chat's files is being read, the reply waits: the ingest worker that
    finishes reading the last one sends it (app/services/chat_files.py)."""
    with user_quota_lock(res.redis, user_id):
        chat = admit_chat_reply(db, user_id, session_id, res.settings)
        model = require_model(res, chat.model, "the chat's model")
        fit_message(res, db, chat.id, content, sampling, use_knowledge_base, model)
        reserved = budgets.admit(db, user_id, wanted_tokens(sampling, res.settings))
        parent_id = edited.parent_id if edited is not None else shown_leaf(db, chat)
        user_message = Message(
            session_id=chat.id, parent_id=parent_id, role=MessageRole.USER, content=content
        )
        db.add(user_message)
        db.flush()
        bind_files(db, chat.id, file_ids, user_message.id)
        reply = queue_reply_row(
            db, chat, user_message.id, sampling, use_knowledge_base, reserved=reserved, model=model
        )
    if not reading(db, chat.id):  # checked after the commit: see replies_to_release
        enqueue_reply(res, db, reply)
    return QueuedReply(user_message.id, reply)


def edit_message(
    res: Resources,
    db: Session,
    user_id: int,
    message_id: int,
    content: str,
    *,
    sampling: dict[str, Any],
    use_knowledge_base: bool | None,
    file_ids: Sequence[int] = (),
) -> QueuedReply:
    """A new version of one of the user's questions, answered anew; the old one and what
    followed it stay as the other version."""
    question = owned_message(db, user_id, message_id)
    if question.role != MessageRole.USER:
        raise Conflict("only questions can be edited; regenerate a reply instead")
    return send_message(
        res, db, user_id, question.session_id, content, sampling=sampling,
        use_knowledge_base=use_knowledge_base, edited=question, file_ids=file_ids,
    )  # fmt: skip


def regenerate(
    res: Resources, db: Session, user_id: int, session_id: int, sampling: dict[str, Any]
) -> QueuedReply:
    """A new version of the reply the chat shows last; the old one stays as a version."""
    with user_quota_lock(res.redis, user_id):
        chat = admit_chat_reply(db, user_id, session_id, res.settings)
        model = require_model(res, chat.model, "the chat's model")
        leaf = shown_leaf(db, chat)
        last = db.get(Message, leaf) if leaf is not None else None
        if last is None or last.role != MessageRole.ASSISTANT or last.parent_id is None:
            raise Conflict("there is no reply to regenerate")
        sampling = sampling or last.sampling
        asked = db.scalar(select(Message.content).where(Message.id == last.parent_id))
        fit_message(res, db, chat.id, asked or "", sampling, last.use_knowledge_base, model)
        reserved = budgets.admit(db, user_id, wanted_tokens(sampling, res.settings))
        reply = queue_reply_row(
            db, chat, last.parent_id, sampling, last.use_knowledge_base, reserved=reserved,
            model=model,
        )  # fmt: skip
    enqueue_reply(res, db, reply)
    return QueuedReply(None, reply)


def queue_reply_row(
    db: Session,
    chat: ChatSession,
    question_id: int,
    sampling: dict[str, Any],
    use_knowledge_base: bool | None,
    *,
    reserved: int | None,
    model: str,
) -> Message:
    """Stores a queued reply to the question and shows it (committed)."""
    reply = Message(
        session_id=chat.id,
        parent_id=question_id,
        role=MessageRole.ASSISTANT,
        status=MessageStatus.QUEUED,
        sampling=sampling,
        use_knowledge_base=use_knowledge_base,
        reserved_tokens=reserved,
        model_name=model,
    )
    db.add(reply)
    db.flush()
    chat.leaf_id = reply.id
    chat.updated_at = utcnow()
    db.commit()
    return reply


def fit_message(
    res: Resources,
    db: Session,
    chat_id: int,
    content: str,
    sampling: dict[str, Any],
    use_knowledge_base: bool | None,
    model: str,
) -> None:
    """MessageTooLong when the message, the chat's template and the reply's room exceed the
    context of the chat's model (app/services/message_fit.py); the worker fits it where this
    process has no tokenizer."""
    tokenizer = vocabulary_reader(*res.settings.model_file(model))
    if tokenizer is not None:
        setup = load_prompt_setup(db, chat_id, use_knowledge_base)
        check_fit(tokenizer, setup, content, wanted_tokens(sampling, res.settings))


def wanted_tokens(sampling: dict[str, Any], settings: Settings) -> int:
    """The reply's max_tokens, as the worker will read it."""
    return int(sampling.get("max_tokens") or settings.default_max_tokens)


def cancel_reply(
    db: Session, streams: TokenStreams, message: Message
) -> Literal["cancelled", "cancelling"]:
    """Flags the reply for the worker; a reply no worker has started is cancelled right here."""
    if message.role != MessageRole.ASSISTANT:
        raise Conflict("only replies can be cancelled")
    if message.status in FINAL_STATUSES:
        raise Conflict(f"the reply is already {message.status}")
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
        return "cancelled"
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


def enqueue_reply(res: Resources, db: Session, reply: Message) -> None:
    """Sends the job after the rows are committed; a broker failure fails the reply visibly."""

    def mark_failed(reason: str) -> None:
        reply.status = MessageStatus.ERROR
        reply.error = reason
        reply.completed_at = utcnow()

    def send() -> None:
        worker_id = chat_worker(res.redis, reply.session_id, reply.model_name)
        if worker_id is not None:
            mark_routed(res.redis, worker_id, reply.id)
        res.jobs.enqueue_reply(reply.id, reply.model_name, worker_id)

    send_or_fail(db, send, mark_failed, f"reply {reply.id}")
