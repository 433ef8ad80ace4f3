"""The broker refuses a job: every kind of work fails visibly (503, the row marked failed), the
same way, and nothing stays queued forever. The job sender is a real one, pointed at a port
where no broker listens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.enums import BatchStatus, DocumentStatus, ItemStatus, MessageStatus
from app.jobs import JobQueue
from app.models import BatchItem, BatchJob, Message, RagDocument
from testkit.processes import free_port
from tests.conftest import register_and_login
from tests.rag.helpers import upload

UNAVAILABLE = "the job queue is unavailable"


@pytest.fixture()
def broker_down(app: Flask, settings: Settings) -> Iterator[None]:
    resources = app.extensions["queuechat"]
    working = resources.jobs
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    resources.jobs = JobQueue(dead)
    yield
    resources.jobs = working


def assert_unavailable(response: object) -> None:
    assert response.status_code == 503, response.json  # type: ignore[attr-defined]
    error = response.json["error"]  # type: ignore[attr-defined]
    assert error["code"] == "unavailable"
    assert error["message"].startswith(UNAVAILABLE)


def stored(app: Flask, model: type, *where: object) -> list[object]:
    with app.extensions["queuechat"].db.session() as db:
        return list(db.scalars(select(model).where(*where)))


def test_a_reply_whose_job_cannot_be_sent_ends_as_error(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], chat_id: int, broker_down: None
) -> None:
    response = client.post(
        f"/api/sessions/{chat_id}/messages", json={"content": "hello"}, headers=auth_headers
    )
    assert_unavailable(response)
    [reply] = stored(app, Message, Message.session_id == chat_id, Message.role == "assistant")
    assert (reply.status, reply.error) == (MessageStatus.ERROR, UNAVAILABLE)  # type: ignore[attr-defined]
    assert reply.completed_at is not None  # type: ignore[attr-defined]


def test_a_completion_and_a_batch_whose_jobs_cannot_be_sent_fail(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], broker_down: None
) -> None:
    model = app.extensions["queuechat"].settings.served_model_name
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    assert_unavailable(client.post("/v1/chat/completions", json=body, headers=auth_headers))
    lines = b'{"custom_id": "a", "prompt": "one"}\n{"custom_id": "b", "prompt": "two"}\n'
    headers = {**auth_headers, "Content-Type": "application/jsonl"}
    assert_unavailable(client.post("/api/batches?name=down", data=lines, headers=headers))
    [job] = stored(app, BatchJob, BatchJob.name == "down")
    assert job.status == BatchStatus.DONE  # type: ignore[attr-defined]
    me = client.get("/api/auth/me", headers=auth_headers).json["id"]
    items = stored(app, BatchItem, BatchItem.owner_id == me)
    assert [(item.status, item.error) for item in items] == [  # type: ignore[attr-defined]
        (ItemStatus.FAILED, UNAVAILABLE)
    ] * 3  # the completion and both batch lines


def test_documents_whose_jobs_cannot_be_sent_end_as_error(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], broker_down: None
) -> None:
    response = upload(
        client, admin_headers, ("down-a.txt", b"first document"), ("down-b.txt", b"second one")
    )
    assert_unavailable(response)
    documents = stored(app, RagDocument, RagDocument.title.in_(["down-a", "down-b"]))
    assert sorted((d.title, d.status, d.error) for d in documents) == [  # type: ignore[attr-defined]
        ("down-a", DocumentStatus.ERROR, UNAVAILABLE),
        ("down-b", DocumentStatus.ERROR, UNAVAILABLE),
    ]
    for document in documents:  # the knowledge base is shared with the other tests
        with app.extensions["queuechat"].db.session() as db:
            db.delete(db.get_one(RagDocument, document.id))  # type: ignore[attr-defined]


def test_redis_down_is_503_and_nothing_is_stored(settings: Settings) -> None:
    """Redis (locks, streams, broker) unreachable: a clear 503, never a 500."""
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(dead)
    client = app.test_client()
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={"title": "redis down"}, headers=headers).json
    response = client.post(
        f"/api/sessions/{chat['id']}/messages", json={"content": "hello"}, headers=headers
    )
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "unavailable"
    assert stored(app, Message, Message.session_id == chat["id"]) == []
    app.extensions["queuechat"].db.dispose()
