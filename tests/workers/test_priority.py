"""Chat before batch: a worker consuming both queues takes `batch` work only when `inference`
is empty (kombu's Redis transport with queue_order_strategy=priority, queues in -Q order)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.db import Database
from app.models import BatchItem, Message
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import isolated_settings, register_and_login


def aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reply_status(db: Database, message_id: int) -> str:
    with db.session() as session:
        return session.get_one(Message, message_id).status


def send_chat(client: FlaskClient, headers: dict[str, str]) -> int:
    chat = client.post("/api/sessions", json={}, headers=headers).json
    sent = client.post(
        f"/api/sessions/{chat['id']}/messages",
        json={"content": "Say hi.", "max_tokens": 4},
        headers=headers,
    )
    assert sent.status_code == 202
    return int(sent.json["assistant_message_id"])


def test_chat_reply_overtakes_a_queued_batch(settings: Settings) -> None:
    isolated = isolated_settings(settings, 15)
    app = create_app(isolated)
    client = app.test_client()
    db = app.extensions["queuechat"].db
    headers = register_and_login(client)
    rows = [{"custom_id": f"r{i}", "prompt": "Tell a story.", "max_tokens": 24} for i in range(8)]
    batch = client.post(
        "/api/batches",
        data="\n".join(json.dumps(r) for r in rows),
        headers={**headers, "Content-Type": "application/jsonl"},
    ).json
    first_reply = send_chat(client, headers)  # queued after the whole batch
    worker = WorkerProcess(isolated, queues="inference,batch")
    try:

        def status(message_id: int) -> str:
            return reply_status(db, message_id)

        def items() -> list[BatchItem]:
            with db.session() as session:
                return list(
                    session.scalars(select(BatchItem).where(BatchItem.batch_id == batch["id"]))
                )

        wait_until(lambda: status(first_reply) == "done", timeout=60, what="first reply")
        wait_until(lambda: any(i.status == "done" for i in items()), timeout=120, what="an item")
        with db.session() as session:
            first_done = aware(session.get_one(Message, first_reply).completed_at)
        completed = sorted(aware(i.completed_at) for i in items() if i.completed_at is not None)
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    # batch items fill the engine's free places beside it, but the chat job was taken first
    assert first_done < completed[0], "a batch item finished before the earlier-queued chat"


def test_a_chat_reply_takes_a_running_batch_items_place(settings: Settings) -> None:
    """Every place holds a batch item; a chat reply does not wait for them (the engine suspends
    one, or starts the reply before the last item reached the engine: tests/workers/test_engine.py
    checks the suspension itself), every item ends with the same output as its twins, and
    nothing is requeued."""
    isolated = isolated_settings(settings, 15)
    app = create_app(isolated)
    client = app.test_client()
    db = app.extensions["queuechat"].db
    headers = register_and_login(client)
    places = isolated.engine_places
    rows = [
        {"custom_id": f"long{i}", "prompt": "Write a long story about the sea.", "max_tokens": 60}
        for i in range(places + 2)
    ]
    batch = client.post(
        "/api/batches",
        data="\n".join(json.dumps(r) for r in rows),
        headers={**headers, "Content-Type": "application/jsonl"},
    ).json

    def items() -> list[BatchItem]:
        with db.session() as session:
            query = select(BatchItem).where(BatchItem.batch_id == batch["id"])
            return list(session.scalars(query.order_by(BatchItem.id)))

    worker = WorkerProcess(isolated, queues="inference,batch")
    try:
        wait_until(
            lambda: sum(i.status == "running" for i in items()) == places,
            timeout=90,
            what="every place running a batch item",
        )
        running = {i.id for i in items() if i.status == "running"}
        reply = send_chat(client, headers)
        wait_until(lambda: reply_status(db, reply) == "done", timeout=60, what="the reply")
        at_reply = {i.id: i.status for i in items()}
        wait_until(lambda: all(i.status == "done" for i in items()), timeout=300, what="the batch")
        finished = items()
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    assert all(at_reply[i] == "running" for i in running), "the reply waited for a batch item"
    assert sum(status == "running" for status in at_reply.values()) <= places
    outputs = {i.output for i in finished}
    assert len(outputs) == 1 and outputs.pop(), "a suspended item must resume, not diverge"
    assert all(i.attempts == 1 for i in finished), [i.attempts for i in finished]
