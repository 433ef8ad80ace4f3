"""Messages: list, send (202 + queued reply), regenerate, show, cancel."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import current_user, jwt_required
from sqlalchemy import select

from app.api.access import owned_message, owned_session
from app.api.openapi import documented
from app.api.schemas import (
    CancelResult,
    MessageCreate,
    MessageList,
    MessageOut,
    RegenerateBody,
    ReplyQueued,
)
from app.api.validation import parse_body, respond
from app.errors import Conflict
from app.extensions import get_db, services
from app.models import OPEN_STATUSES, Message, MessageRole, MessageStatus, utcnow
from app.quotas import ensure_reply_capacity, user_quota_lock
from app.replies import admit_chat_reply, cancel_reply, enqueue_reply

bp = Blueprint("messages", __name__, url_prefix="/api")


@bp.get("/sessions/<int:session_id>/messages")
@jwt_required()
@documented(summary="Messages of a chat session, oldest first", response=MessageList)
def list_messages(session_id: int) -> tuple[Response, int]:
    chat = owned_session(get_db(), current_user.id, session_id)
    return respond(MessageList(items=[MessageOut.model_validate(m) for m in chat.messages]))


@bp.post("/sessions/<int:session_id>/messages")
@jwt_required()
@documented(
    summary="Send a message; the reply is queued",
    body=MessageCreate,
    response=ReplyQueued,
    status=202,
)
def send_message(session_id: int) -> tuple[Response, int]:
    body = parse_body(MessageCreate)
    db = get_db()
    with user_quota_lock(services().redis, current_user.id):
        chat = admit_chat_reply(db, current_user.id, session_id, services().settings)
        user_message = Message(session_id=chat.id, role=MessageRole.USER, content=body.content)
        reply = Message(
            session_id=chat.id,
            role=MessageRole.ASSISTANT,
            status=MessageStatus.QUEUED,
            sampling=body.as_stored(),
            use_knowledge_base=body.use_knowledge_base,
        )
        chat.updated_at = utcnow()
        db.add_all([user_message, reply])
        db.commit()
    enqueue_reply(db, reply)
    return respond(
        ReplyQueued(
            user_message_id=user_message.id, assistant_message_id=reply.id, status=reply.status
        ),
        202,
    )


@bp.post("/sessions/<int:session_id>/regenerate")
@jwt_required()
@documented(
    summary="Replace the last reply with a new one",
    body=RegenerateBody,
    response=ReplyQueued,
    status=202,
)
def regenerate(session_id: int) -> tuple[Response, int]:
    body = parse_body(RegenerateBody)
    db = get_db()
    chat = owned_session(db, current_user.id, session_id)
    with user_quota_lock(services().redis, current_user.id):
        last = db.scalar(
            select(Message)
            .where(Message.session_id == chat.id)
            .order_by(Message.id.desc())
            .limit(1)
        )
        if last is None or last.role != MessageRole.ASSISTANT:
            raise Conflict("there is no reply to regenerate")
        if last.status in OPEN_STATUSES:
            raise Conflict("the last reply is still being generated; cancel it first")
        ensure_reply_capacity(db, current_user.id, services().settings)
        reply = Message(
            session_id=chat.id,
            role=MessageRole.ASSISTANT,
            status=MessageStatus.QUEUED,
            sampling=body.as_stored() or last.sampling,
        )
        old_id = last.id
        db.delete(last)
        chat.updated_at = utcnow()
        db.add(reply)
        db.commit()
    services().streams.delete(old_id)
    enqueue_reply(db, reply)
    return respond(
        ReplyQueued(user_message_id=None, assistant_message_id=reply.id, status=reply.status), 202
    )


@bp.get("/messages/<int:message_id>")
@jwt_required()
@documented(summary="Show one message", response=MessageOut)
def show_message(message_id: int) -> tuple[Response, int]:
    return respond(MessageOut.model_validate(owned_message(get_db(), current_user.id, message_id)))


@bp.post("/messages/<int:message_id>/cancel")
@jwt_required()
@documented(summary="Stop a queued or generating reply", response=CancelResult, status=202)
def cancel(message_id: int) -> tuple[Response, int]:
    db = get_db()
    message = owned_message(db, current_user.id, message_id)
    status = cancel_reply(db, message)
    return respond(CancelResult(message_id=message.id, status=status), 202)
