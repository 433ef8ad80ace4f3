"""Chat before batch: a worker consuming both queues takes `batch` work only when `inference`
is empty (kombu's Redis transport with queue_order_strategy=priority, queues in -Q order)."""

from __future__ import annotations

import json
import time
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
        wait_until(lambda: any(i.status == "done" for i in items()), timeout=60, what="an item")
        sent_at = datetime.now(UTC)
        second_reply = send_chat(client, headers)  # while the batch runs
        wait_until(lambda: status(second_reply) == "done", timeout=60, what="second reply")
        with db.session() as session:
            first_done = aware(session.get_one(Message, first_reply).completed_at)
            second_done = aware(session.get_one(Message, second_reply).completed_at)
        started = sorted(aware(i.started_at) for i in items() if i.started_at is not None)
        open_items = [i for i in items() if i.status in ("queued", "running")]
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    assert started[0] > first_done, "a batch item started before the earlier-queued chat reply"
    # the item running when the message came finishes; no other item starts before the reply
    overtaken = [moment for moment in started if sent_at < moment < second_done]
    assert len(overtaken) <= 1, (sent_at, second_done, started)
    assert open_items, "the batch should still have been running"


def test_running_batch_item_yields_to_a_chat_reply(settings: Settings) -> None:
    isolated = isolated_settings(settings, 15)
    app = create_app(isolated)
    client = app.test_client()
    db = app.extensions["queuechat"].db
    headers = register_and_login(client)
    rows = [
        {"custom_id": f"long{i}", "prompt": "Write a long story about the sea.", "max_tokens": 400}
        for i in range(2)
    ]
    batch = client.post(
        "/api/batches",
        data="\n".join(json.dumps(r) for r in rows),
        headers={**headers, "Content-Type": "application/jsonl"},
    ).json

    def first_item() -> BatchItem:
        with db.session() as session:
            query = (
                select(BatchItem).where(BatchItem.batch_id == batch["id"]).order_by(BatchItem.id)
            )
            return session.scalars(query).first()  # type: ignore[return-value]

    worker = WorkerProcess(isolated, queues="inference,batch")
    try:
        wait_until(lambda: first_item().status == "running", timeout=60, what="a running item")
        time.sleep(0.5)  # well into decoding
        sent = time.monotonic()
        reply = send_chat(client, headers)
        wait_until(lambda: reply_status(db, reply) == "done", timeout=60, what="the reply")
        waited = time.monotonic() - sent
        item = first_item()
        client.post(f"/api/batches/{batch['id']}/cancel", headers=headers)
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    # 400 tokens take several seconds here; the reply did not wait for them
    assert waited < 2.0, waited
    assert item.status in ("queued", "running") and item.attempts <= 1, (item.status, item.attempts)
    assert "yielded to a waiting chat reply" in worker.log_path.read_text()
