"""Chats shared as read-only links: a snapshot of the chat's finished turns taken when shared,
read by any signed-in user who has the link's token, revoked by its owner (the row goes; it
also goes with the chat or the owner)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound
from app.models import User
from app.schemas.chat_export import ChatExport
from app.schemas.shares import SharedChat
from app.services import chat_export
from app.services.ownership import owned_row, owned_session
from app.workspace_models import ChatShare

MAX_SHARES_PER_CHAT = 20
MAX_SHARED_CHARS = 2_000_000  # the snapshot's text in all: a larger chat is exported instead
TOKEN_BYTES = 24  # 192 random bits: a link cannot be guessed
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def share_chat(db: Session, user_id: int, session_id: int) -> ChatShare:
    """A new link to the user's chat as it is now (a reply still running is left out)."""
    export = chat_export.export_chat(db, user_id, session_id)
    if not export.messages:
        raise InvalidInput("the chat has no messages to share yet")
    size = sum(len(message.content) for message in export.messages)
    if size > MAX_SHARED_CHARS:
        raise InvalidInput(
            f"the chat is too long to share ({size:,} characters; at most"
            f" {MAX_SHARED_CHARS:,}): export it instead"
        )
    count = db.scalar(select(func.count()).where(ChatShare.session_id == session_id)) or 0
    if count >= MAX_SHARES_PER_CHAT:
        raise Conflict(f"the chat has {count} links already: revoke one first")
    share = ChatShare(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        owner_id=user_id,
        session_id=session_id,
        title=export.title,
        snapshot=export.model_dump(mode="json"),
        message_count=len(export.messages),
    )
    db.add(share)
    db.commit()
    return share


def chat_shares(db: Session, user_id: int, session_id: int) -> Sequence[ChatShare]:
    """The links to the user's chat, newest first."""
    owned_session(db, user_id, session_id)
    return db.scalars(
        select(ChatShare).where(ChatShare.session_id == session_id).order_by(ChatShare.id.desc())
    ).all()


def revoke_share(db: Session, user_id: int, share_id: int) -> None:
    db.delete(owned_row(db, ChatShare, share_id, user_id, "shared link"))
    db.commit()


def shared_chat(db: Session, token: str) -> SharedChat:
    """The snapshot behind a link; 404 for a link that never was, or was revoked."""
    found = (
        db.execute(
            select(ChatShare, User.username)
            .join(User, User.id == ChatShare.owner_id)
            .where(ChatShare.token == token)
        ).first()
        if TOKEN.fullmatch(token)
        else None
    )
    if found is None:
        raise NotFound("no chat is shared at this link (it may have been revoked)")
    share, username = found
    snapshot = ChatExport.model_validate(share.snapshot)
    return SharedChat(
        title=share.title,
        shared_by=username,
        shared_at=share.created_at,
        messages=snapshot.messages,
    )
