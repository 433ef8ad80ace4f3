"""Ids are never reused, on SQLite and PostgreSQL: a deleted row's id never comes back (it would
meet what the old row left in Redis: a cancel flag, a stream)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import select

from app.db import Database
from app.enums import MessageRole, MessageStatus
from app.migrate import alembic_config, upgrade
from app.models import ChatSession, Message, User


def test_a_deleted_rows_id_is_never_handed_out_again(database_url: str, app: object) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            user = User(
                username="ids-owner-" + database_url[-6:].replace("/", ""), password_hash="x"
            )
            session.add(user)
            session.flush()
            chat = ChatSession(owner_id=user.id, title="ids")
            session.add(chat)
            session.flush()
            reply = Message(
                session_id=chat.id, role=MessageRole.ASSISTANT, status=MessageStatus.DONE
            )
            session.add(reply)
            session.flush()
            first_chat, first_reply = chat.id, reply.id
        with db.session() as session:  # the newest rows go: SQLite would reuse their ids
            session.delete(session.get_one(ChatSession, first_chat))
        with db.session() as session:
            owner = session.scalar(select(User).where(User.id == user.id))
            assert owner is not None
            chat = ChatSession(owner_id=owner.id, title="ids again")
            session.add(chat)
            session.flush()
            reply = Message(
                session_id=chat.id, role=MessageRole.ASSISTANT, status=MessageStatus.QUEUED
            )
            session.add(reply)
            session.flush()
            assert chat.id > first_chat and reply.id > first_reply
    finally:
        db.dispose()


def test_the_migration_keeps_every_row_and_link_of_an_existing_sqlite_database(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "5e0c7a1d2f3b")  # the schema before AUTOINCREMENT
    db = Database(url)
    with db.session() as session:
        user = User(username="old-user", password_hash="x")
        session.add(user)
        session.flush()
        chat = ChatSession(owner_id=user.id, title="old chat")
        session.add(chat)
        session.flush()
        session.add_all(
            [
                Message(session_id=chat.id, role=MessageRole.USER, content="hello"),
                Message(session_id=chat.id, role=MessageRole.ASSISTANT, content="hi there"),
            ]
        )
    db.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            chat = session.scalars(select(ChatSession)).one()
            assert [m.content for m in chat.messages] == ["hello", "hi there"]
            assert chat.owner.username == "old-user"
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
