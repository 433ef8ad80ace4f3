"""Ownership checks: another user's rows are indistinguishable from missing ones (404)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.models import ChatSession, Message, PromptTemplate


def owned_session(db: Session, user_id: int, session_id: int) -> ChatSession:
    chat = db.get(ChatSession, session_id)
    if chat is None or chat.owner_id != user_id:
        raise NotFound("chat session not found")
    return chat


def owned_message(db: Session, user_id: int, message_id: int) -> Message:
    message = db.scalar(
        select(Message)
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(Message.id == message_id, ChatSession.owner_id == user_id)
    )
    if message is None:
        raise NotFound("message not found")
    return message


def usable_template(db: Session, template_id: int | None) -> int | None:
    """A template a chat may use: it must exist and be active."""
    if template_id is None:
        return None
    template = db.get(PromptTemplate, template_id)
    if template is None or not template.active:
        raise InvalidInput("template_id does not name an active template")
    return template.id
