"""Ids are never reused, on SQLite and PostgreSQL: a deleted row's id never comes back (it would
meet what the old row left in Redis: a cancel flag, a stream)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import Database
from app.enums import MessageRole, MessageStatus
from app.migrate import alembic_config, upgrade
from app.models import ChatSession, Message, User


def chat_with_reply(session: Session, owner_id: int, status: MessageStatus) -> tuple[int, int]:
    """A new chat with one reply: their ids."""
    chat = ChatSession(owner_id=owner_id, title="ids")
    session.add(chat)
    session.flush()
    reply = Message(session_id=chat.id, role=MessageRole.ASSISTANT, status=status)
    session.add(reply)
    session.flush()
    return chat.id, reply.id


def test_a_deleted_rows_id_is_never_handed_out_again(database_url: str, app: object) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            user = User(
                username="ids-owner-" + database_url[-6:].replace("/", ""), password_hash="x"
            )
            session.add(user)
            session.flush()
            first_chat, first_reply = chat_with_reply(session, user.id, MessageStatus.DONE)
        with db.session() as session:  # the newest rows go: SQLite would reuse their ids
            session.delete(session.get_one(ChatSession, first_chat))
        with db.session() as session:
            chat, reply = chat_with_reply(session, user.id, MessageStatus.QUEUED)
            assert chat > first_chat and reply > first_reply
    finally:
        db.dispose()


def test_the_migration_keeps_every_row_and_link_of_an_existing_sqlite_database(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "5e0c7a1d2f3b")  # the schema before AUTOINCREMENT
    db = Database(url)
    with db.engine.begin() as connection:  # rows as that schema had them (no ORM of today)
        connection.execute(
            text(
                "INSERT INTO users (id, username, password_hash, role, active, created_at) "
                "VALUES (1, 'old-user', 'x', 'user', 1, '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO chat_sessions (id, owner_id, title, use_knowledge_base, created_at, "
                "updated_at) VALUES (1, 1, 'old chat', 0, '2026-01-01', '2026-01-01')"
            )
        )
        for message_id, role, content in ((1, "user", "hello"), (2, "assistant", "hi there")):
            connection.execute(
                text(
                    "INSERT INTO messages (id, session_id, role, content, status, attempts, "
                    "sampling, citations, created_at) VALUES (:id, 1, :role, :content, 'done', "
                    "0, '{}', '[]', '2026-01-01')"
                ),
                {"id": message_id, "role": role, "content": content},
            )
    db.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            chat = session.scalars(select(ChatSession)).one()
            assert [m.content for m in chat.messages] == ["hello", "hi there"]
            assert (chat.owner.username, chat.owner.username_key) == ("old-user", "old-user")
            last = chat.messages[-1].id
            session.delete(chat.messages[-1])
        with db.session() as session:
            chat = session.scalars(select(ChatSession)).one()
            newer = Message(session_id=chat.id, role=MessageRole.ASSISTANT, content="again")
            session.add(newer)
            session.flush()
            assert newer.id > last
        with db.session() as session:  # foreign keys still cascade after the rebuild
            session.delete(session.scalars(select(User)).one())
        with db.session() as session:
            assert session.scalars(select(Message)).all() == []
    finally:
        db.dispose()
