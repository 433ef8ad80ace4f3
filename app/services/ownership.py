"""Rows a user may reach: another user's rows are indistinguishable from missing ones (404)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api_keys_table import ApiKey
from app.errors import InvalidInput, NotFound
from app.models import BatchJob, ChatSession, Message, PromptTemplate, RagDocument, User


class Owned(Protocol):
    owner_id: int


Row = TypeVar("Row")
OwnedRow = TypeVar("OwnedRow", bound=Owned)


def row_or_404(db: Session, model: type[Row], row_id: int, what: str) -> Row:
    row = db.get(model, row_id)
    if row is None:
        raise NotFound(f"{what} not found")
    return row


def owned_row(db: Session, model: type[OwnedRow], row_id: int, user_id: int, what: str) -> OwnedRow:
    row = db.get(model, row_id)
    if row is None or row.owner_id != user_id:
        raise NotFound(f"{what} not found")
    return row


def owned_session(db: Session, user_id: int, session_id: int) -> ChatSession:
    return owned_row(db, ChatSession, session_id, user_id, "chat session")


def owned_batch(db: Session, user_id: int, batch_id: int) -> BatchJob:
    return owned_row(db, BatchJob, batch_id, user_id, "batch")


def owned_api_key(db: Session, user_id: int, key_id: int) -> ApiKey:
    return owned_row(db, ApiKey, key_id, user_id, "API key")


def owned_message(db: Session, user_id: int, message_id: int) -> Message:
    message = db.scalar(
        select(Message)
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(Message.id == message_id, ChatSession.owner_id == user_id)
    )
    if message is None:
        raise NotFound("message not found")
    return message


def template_or_404(db: Session, template_id: int) -> PromptTemplate:
    return row_or_404(db, PromptTemplate, template_id, "template")


def document_or_404(db: Session, document_id: int) -> RagDocument:
    """A knowledge-base document: a file attached in a chat is not one (its owner's alone)."""
    document = db.get(RagDocument, document_id)
    if document is None or document.session_id is not None:
        raise NotFound("document not found")
    return document


def user_or_404(db: Session, user_id: int) -> User:
    return row_or_404(db, User, user_id, "user")


def usable_template(db: Session, template_id: int | None) -> int | None:
    """A template a chat may use: it must exist and be active."""
    if template_id is None:
        return None
    template = db.get(PromptTemplate, template_id)
    if template is None or not template.active:
        raise InvalidInput("template_id does not name an active template")
    return template.id
