"""Chat sessions: list, create, change, delete (which stops its replies and drops their streams)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enums import OPEN_STATUSES
from app.models import ChatSession, Message, utcnow
from app.resources import Resources
from app.services.chat_files import files_of_chat, forget_files
from app.services.ownership import owned_session, usable_template


def list_chats(
    db: Session, user_id: int, limit: int, offset: int
) -> tuple[Sequence[ChatSession], int]:
    """The user's chats, pinned ones first (last pinned first), then the most recently active
    first, and how many there are in all."""
    mine = ChatSession.owner_id == user_id
    total = db.scalar(select(func.count()).select_from(ChatSession).where(mine)) or 0
    rows = db.scalars(
        select(ChatSession)
        .where(mine)
        .order_by(
            ChatSession.pinned_at.is_(None),
            ChatSession.pinned_at.desc(),
            ChatSession.updated_at.desc(),
            ChatSession.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, int(total)


def create_chat(
    db: Session,
    user_id: int,
    title: str,
    use_knowledge_base: bool,
    template_id: int | None,
    model: str | None = None,
) -> ChatSession:
    """``model``: a listed model's name (checked by the caller); None: the default."""
    chat = ChatSession(
        owner_id=user_id,
        title=title,
        use_knowledge_base=use_knowledge_base,
        template_id=usable_template(db, template_id),
        model=model,
    )
    db.add(chat)
    db.commit()
    return chat


def update_chat(
    db: Session, user_id: int, session_id: int, changes: dict[str, object]
) -> ChatSession:
    """Applies the given fields (title, use_knowledge_base, template_id, model (checked by the
    caller), pinned); absent ones stay. Pinning alone leaves the chat's last activity as it
    was (it keeps its date group)."""
    chat = owned_session(db, user_id, session_id)
    if changes.get("pinned") is not None:
        chat.pinned_at = (chat.pinned_at or utcnow()) if changes["pinned"] else None
    if set(changes) <= {"pinned"}:
        db.commit()
        return chat
    if changes.get("title") is not None:
        chat.title = str(changes["title"])
    if changes.get("use_knowledge_base") is not None:
        chat.use_knowledge_base = bool(changes["use_knowledge_base"])
    if "model" in changes:
        chat.model = None if changes["model"] is None else str(changes["model"])
    if "template_id" in changes:
        template_id = changes["template_id"]
        chat.template_id = usable_template(
            db, template_id if isinstance(template_id, int) else None
        )
    chat.updated_at = utcnow()
    db.commit()
    return chat


def delete_chat(res: Resources, db: Session, user_id: int, session_id: int) -> None:
    """Cancels the chat's open replies (only those), deletes it, and drops its replies' streams
    and its files (their bytes now, their vectors by an ingest worker).

    An open reply keeps its cancel flag until it expires, so a worker that is just starting
    still sees it; ids are never reused, so the flag cannot reach another reply.
    """
    streams = res.streams
    chat = owned_session(db, user_id, session_id)
    rows = db.execute(select(Message.id, Message.status).where(Message.session_id == chat.id))
    replies: dict[int, str] = {int(row[0]): str(row[1]) for row in rows}
    for message_id, status in replies.items():
        if status in OPEN_STATUSES:
            streams.request_cancel(message_id)  # stop a reply still queued or generating
    files = files_of_chat(db, chat.id)
    db.delete(chat)
    db.commit()
    streams.delete(*replies)
    forget_files(res, files)
