"""A real gunicorn web process (gevent worker, default WebSocket settings) on this run's Redis
and database, with no inference worker: replies stay queued, and tests write stream events
themselves, as a worker would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import Database
from app.enums import MessageRole, MessageStatus, Role
from app.models import ChatSession, Message, User
from app.services.accounts import hash_password
from testkit.processes import WebProcess
from tests.conftest import isolated_settings

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def stack_settings(settings: Settings) -> Settings:
    return isolated_settings(settings, 13)


@pytest.fixture(scope="module")
def web(stack_settings: Settings) -> Iterator[WebProcess]:
    stack_settings.metrics_dir.mkdir(parents=True, exist_ok=True)  # as the run command does
    process = WebProcess(stack_settings)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def database(stack_settings: Settings) -> Iterator[Database]:
    found = Database(stack_settings.sqlalchemy_url)
    yield found
    found.dispose()


def new_user(database: Database, role: Role = Role.USER) -> tuple[int, str]:
    username = f"ws{uuid.uuid4().hex[:10]}"
    with database.session() as db:
        user = User(username=username, password_hash=hash_password(PASSWORD), role=role)
        db.add(user)
        db.flush()
        return user.id, username


def login(web: WebProcess, username: str) -> dict[str, Any]:
    response = web.http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_replies(database: Database, owner_id: int, count: int) -> list[int]:
    """Assistant messages that a worker is generating (no stream yet): subscriptions to them
    stay open."""
    with database.session() as db:
        chat = ChatSession(owner_id=owner_id, title="ws")
        db.add(chat)
        db.flush()
        rows = [
            Message(
                session_id=chat.id,
                role=MessageRole.ASSISTANT,
                content="",
                status=MessageStatus.GENERATING,
            )
            for _ in range(count)
        ]
        db.add_all(rows)
        db.flush()
        return [row.id for row in rows]


def timed_get(web: WebProcess, path: str, token: str) -> tuple[float, httpx.Response]:
    """A database-backed REST call and how long it took (seconds)."""
    import time

    started = time.monotonic()
    response = web.http.get(path, headers=bearer(token), timeout=30)
    return time.monotonic() - started, response
