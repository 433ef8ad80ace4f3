"""A worker killed mid-reply: the job is redelivered, starts over, and ends in one final state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.enums import MessageRole, MessageStatus
from app.models import ChatSession, Message, User
from testkit.processes import LiveServer, WorkerProcess
from testkit.wsclient import ChatSocket, text_of, token_of
from tests.conftest import USER_DEFAULT_VISIBILITY, isolated_settings, register_and_login
from workers.context import build_context
from workers.inference.chat_job import ReplyClaim, ReplyOutcome, store_reply
from workers.inference.model import Sampling


@pytest.fixture()
def isolated(settings: Settings) -> Iterator[tuple[Settings, Flask, LiveServer]]:
    """Its own Redis database, so the session's worker never takes these jobs."""
    worker_settings = isolated_settings(settings, 10, visibility_timeout_s=USER_DEFAULT_VISIBILITY)
    app = create_app(worker_settings)
    server = LiveServer(app)
    yield worker_settings, app, server
    server.stop()
    app.extensions["queuechat"].db.dispose()


def test_sigkill_mid_reply_is_redelivered_and_finishes_once(
    isolated: tuple[Settings, Flask, LiveServer],
) -> None:
    settings, app, server = isolated
    client = app.test_client()
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    first_worker = WorkerProcess(settings)
    second_worker: WorkerProcess | None = None
    try:
        queued = client.post(
            f"/api/sessions/{chat['id']}/messages",
            json={"content": "Write a long story about a dragon.", "max_tokens": 150},
            headers=headers,
        ).json
        message_id = queued["assistant_message_id"]
        sock = ChatSocket(server.ws_url, token_of(headers))
        sock.subscribe(message_id)
        before = sock.take(5)
        first_worker.kill()
        second_worker = WorkerProcess(settings)
        after = sock.until_final()
        sock.close()
    finally:
        first_worker.stop()
        if second_worker is not None:
            second_worker.stop()
    types = [e["type"] for e in after]
    assert types.count("reset") == 1, types
    assert types[-1] == "done"
    assert types.count("done") == 1
    message = client.get(f"/api/messages/{message_id}", headers=headers).json
    assert message["status"] == "done"
    assert message["content"] == text_of(before + after)
    assert text_of(before + after) == text_of(after[types.index("reset") :])
    with app.extensions["queuechat"].db.session() as db:
        assert db.get_one(Message, message_id).attempts == 2


def _make_reply(app: Flask, username: str, **fields: object) -> int:
    with app.extensions["queuechat"].db.session() as db:
        user = db.scalar(select(User).where(User.username == username))
        assert user is not None
        chat = ChatSession(owner_id=user.id, title="t")
        db.add(chat)
        db.flush()
        asked = Message(session_id=chat.id, role=MessageRole.USER, content="hi")
        reply = Message(session_id=chat.id, parent=asked, role=MessageRole.ASSISTANT, **fields)
        db.add(reply)
        db.flush()
        return reply.id


@pytest.mark.usefixtures("celery_worker")
def test_too_many_attempts_end_as_error(
    app: Flask, client: FlaskClient, live_server: LiveServer, settings: Settings
) -> None:
    headers = register_and_login(client)
    message_id = _make_reply(
        app,
        headers["X-Username"],
        status=MessageStatus.GENERATING,
        attempts=settings.reply_attempts,
    )
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(message_id)
    app.extensions["queuechat"].jobs.enqueue_reply(message_id, None)
    events = sock.until_final()
    sock.close()
    assert [e["type"] for e in events] == ["reset", "error"]
    assert events[-1]["error"] == f"the reply failed after {settings.reply_attempts} attempts"
    message = client.get(f"/api/messages/{message_id}", headers=headers).json
    assert message["status"] == "error"
    assert message["error"] == events[-1]["error"]


def test_only_the_newest_attempt_writes_the_final_state(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    headers = register_and_login(client)
    message_id = _make_reply(
        app, headers["X-Username"], status=MessageStatus.GENERATING, attempts=2
    )
    ctx = build_context(settings)
    sampling = Sampling(max_tokens=5, temperature=0, top_p=1)
    stale = ReplyClaim(message_id, attempt=1, session_id=0, sampling=sampling)
    current = ReplyClaim(message_id, attempt=2, session_id=0, sampling=sampling)
    assert not store_reply(ctx, stale, ReplyOutcome(MessageStatus.DONE, content="stale"), "m")
    assert store_reply(ctx, current, ReplyOutcome(MessageStatus.DONE, content="fresh"), "m")
    assert not store_reply(ctx, current, ReplyOutcome(MessageStatus.ERROR, error="late"), "m")
    with app.extensions["queuechat"].db.session() as db:
        message = db.get_one(Message, message_id)
        assert (message.status, message.content, message.error) == ("done", "fresh", None)
    events = ctx.streams.read(message_id)
    assert [e.type for e in events] == ["done"]
    ctx.db.dispose()
