"""Files attached in a chat: read and indexed by the ingest workers like knowledge-base
documents, into a collection of their own, and private to the chat's owner (listed, retrieved
and deleted only through that chat; admins do not see them). A question sent with files that
are still being read waits: its reply is queued when the last of them is read (the ingest
worker sends it; app/services/chat_files.py ``replies_to_release``)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.enums import DocumentStatus, MessageRole, MessageStatus
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Message, RagDocument
from app.resources import Resources
from app.schemas.messages import SentFile
from app.services.knowledge_base import enqueue_ingest
from app.services.ownership import owned_session
from app.services.uploads import CheckedUpload, store_file

READING = (DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING)


def scoped_sha256(session_id: int, content_sha256: str) -> str:
    """An attachment's key: its content in its chat (the same file twice in one chat is one;
    in two chats, or in the knowledge base as well, it is two)."""
    return hashlib.sha256(f"chat {session_id}: {content_sha256}".encode()).hexdigest()


def attached(db: Session, session_id: int) -> Sequence[RagDocument]:
    return db.scalars(
        select(RagDocument).where(RagDocument.session_id == session_id).order_by(RagDocument.id)
    ).all()


def list_files(db: Session, user_id: int, session_id: int) -> Sequence[RagDocument]:
    return attached(db, owned_session(db, user_id, session_id).id)


def split_attached(
    db: Session, session_id: int, uploads: Sequence[CheckedUpload]
) -> tuple[list[CheckedUpload], list[CheckedUpload]]:
    """The uploads new to the chat, and those it holds already (or twice in this upload)."""
    keys = [scoped_sha256(session_id, u.sha256) for u in uploads]
    held = set(db.scalars(select(RagDocument.sha256).where(RagDocument.sha256.in_(keys))))
    fresh: list[CheckedUpload] = []
    again: list[CheckedUpload] = []
    for index, upload in enumerate(uploads):
        (again if keys[index] in held or keys[index] in keys[:index] else fresh).append(upload)
    return fresh, again


def attach_files(
    res: Resources, db: Session, user_id: int, session_id: int, uploads: Sequence[CheckedUpload]
) -> list[RagDocument]:
    """Stores the files in the user's chat and queues them to be read; at most MAX_CHAT_FILES
    in a chat (422), the same content twice is 409."""
    chat = owned_session(db, user_id, session_id)
    limit = res.settings.max_chat_files
    count = db.scalar(select(func.count()).where(RagDocument.session_id == chat.id)) or 0
    if count + len(uploads) > limit:
        raise InvalidInput(f"a chat holds at most {limit} files ({count} attached already)")
    files = [
        RagDocument(
            owner_id=user_id,
            session_id=chat.id,
            title=checked.title,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size_bytes=len(checked.data),
            sha256=scoped_sha256(chat.id, checked.sha256),
            storage_name=store_file(res.settings.uploads_dir, checked.data),
            meta={},
        )  # fmt: skip
        for checked in uploads
    ]
    db.add_all(files)
    try:
        db.commit()
    except IntegrityError as exc:  # the same file attached at the same moment
        db.rollback()
        for row in files:
            (res.settings.uploads_dir / row.storage_name).unlink(missing_ok=True)
        raise Conflict("already attached to this chat") from exc
    enqueue_ingest(res, db, files)
    return files


def detach_file(res: Resources, db: Session, user_id: int, session_id: int, file_id: int) -> None:
    """Deletes the file, its text and its vectors; what was answered from it stays."""
    chat = owned_session(db, user_id, session_id)
    row = db.get(RagDocument, file_id)
    if row is None or row.session_id != chat.id:
        raise NotFound("file not found")
    gone = [(row.id, row.storage_name)]
    db.delete(row)
    db.commit()
    forget_files(res, gone)
    for reply_id, model in replies_to_release(db, chat.id):  # it may have been the one read
        res.jobs.enqueue_reply(reply_id, model)


def files_of_chat(db: Session, session_id: int) -> list[tuple[int, str]]:
    """(id, storage name) of the chat's files: what deleting the chat must clear."""
    rows = db.execute(
        select(RagDocument.id, RagDocument.storage_name).where(RagDocument.session_id == session_id)
    )
    return [(int(i), str(name)) for i, name in rows]


def forget_files(res: Resources, files: Sequence[tuple[int, str]]) -> None:
    """The stored bytes now; the vectors by an ingest worker."""
    for file_id, storage_name in files:
        (res.settings.uploads_dir / storage_name).unlink(missing_ok=True)
        res.jobs.enqueue_vector_delete(file_id)


def bind_files(db: Session, session_id: int, file_ids: Sequence[int], message_id: int) -> bool:
    """Marks the files as sent with this question (in the caller's transaction); 404 for one
    that is not an unsent file of this chat. True when one of the chat's files is still read."""
    wanted = set(file_ids)
    if wanted:
        rows = db.scalars(
            select(RagDocument).where(
                RagDocument.id.in_(wanted),
                RagDocument.session_id == session_id,
                RagDocument.message_id.is_(None),
            )
        ).all()
        if len(rows) != len(wanted):
            raise NotFound("file not found (or sent already): attach it to this chat first")
        for row in rows:
            row.message_id = message_id
    return reading(db, session_id)


def sent_files(db: Session, session_id: int) -> dict[int, list[SentFile]]:
    """The chat's files by the question they were sent with."""
    sent: dict[int, list[SentFile]] = defaultdict(list)
    rows = db.scalars(
        select(RagDocument)
        .where(RagDocument.session_id == session_id, RagDocument.message_id.is_not(None))
        .order_by(RagDocument.id)
    )
    for row in rows:
        sent[int(row.message_id or 0)].append(SentFile.model_validate(row))
    return sent


def reading(db: Session, session_id: int) -> bool:
    busy = select(RagDocument.id).where(
        RagDocument.session_id == session_id, RagDocument.status.in_(READING)
    )
    return bool(db.scalar(select(busy.exists())))


def replies_to_release(db: Session, session_id: int) -> list[tuple[int, str | None]]:
    """The chat's queued replies (id, model), once none of its files is being read (none:
    still reading). Sending a reply's job twice is harmless (its claim and lease run it once)."""
    if reading(db, session_id):
        return []
    rows = db.execute(
        select(Message.id, Message.model_name).where(
            Message.session_id == session_id,
            Message.role == MessageRole.ASSISTANT,
            Message.status == MessageStatus.QUEUED,
        )
    )
    return [(int(i), model) for i, model in rows]
