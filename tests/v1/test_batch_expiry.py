"""completion_window: a batch past its deadline expires. OpenAI's API takes only "24h", and no
test waits a day or shortens the window: the sweep takes its clock as an argument (the unit
test below moves it), and the real sweep in a real worker expires a batch whose stored
deadline has passed (the second test moves the deadline, not the clock or any timeout)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import openai
from flask import Flask
from sqlalchemy import select, update

from app.config import Settings
from app.enums import ItemStatus
from app.models import BatchItem, BatchJob, as_utc
from app.services.batch_close import close_if_finished
from app.services.openai_batches import expire_due
from testkit.processes import LiveServer, WorkerProcess
from tests.conftest import register_and_login
from tests.v1.test_batch_api import chat_line, jsonl, lines_of, wait_for


def create_batch(app: Flask, settings: Settings, lines: int) -> tuple[dict[str, str], int]:
    """A batch on a queue nobody consumes: its items stay queued until the test moves them."""
    client = app.test_client()
    headers = register_and_login(client)
    data = jsonl([chat_line(f"r{i}", settings, "hi", max_tokens=2) for i in range(lines)])
    uploaded = client.post(
        "/v1/files",
        data={"purpose": "batch", "file": (io.BytesIO(data), "in.jsonl")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 200, uploaded.json
    body = {"input_file_id": uploaded.json["id"], "endpoint": "/v1/chat/completions",
            "completion_window": "24h"}  # fmt: skip
    created = client.post("/v1/batches", json=body, headers=headers)
    assert created.status_code == 200 and created.json["status"] == "in_progress", created.json
    return headers, int(created.json["id"].removeprefix("batch_"))


def show(app: Flask, headers: dict[str, str], batch_id: int) -> dict[str, Any]:
    answer = app.test_client().get(f"/v1/batches/batch_{batch_id}", headers=headers)
    assert answer.status_code == 200
    return dict(answer.json)


def test_the_sweep_expires_a_batch_at_its_deadline(idle_app: Flask, settings: Settings) -> None:
    headers, batch_id = create_batch(idle_app, settings, 3)
    db = idle_app.extensions["queuechat"].db
    with db.session() as session:
        deadline = as_utc(session.get(BatchJob, batch_id).expires_at)  # type: ignore[union-attr,arg-type]
        first, second, _third = session.scalars(
            select(BatchItem.id).where(BatchItem.batch_id == batch_id).order_by(BatchItem.id)
        ).all()
        # as a worker leaves them: one answered, one being generated, one still queued
        session.execute(update(BatchItem).where(BatchItem.id == first).values(
            status=ItemStatus.DONE, output="hello", finish_reason="stop", prompt_tokens=3,
            completion_tokens=1, completed_at=deadline - timedelta(hours=1)))  # fmt: skip
        session.execute(
            update(BatchItem).where(BatchItem.id == second).values(status=ItemStatus.RUNNING)
        )
    with db.session() as session:
        assert batch_id not in expire_due(session, deadline - timedelta(seconds=1))
    assert show(idle_app, headers, batch_id)["status"] == "in_progress"
    with db.session() as session:
        assert batch_id in expire_due(session, deadline)
    stopped = show(idle_app, headers, batch_id)
    # the running request finishes before the files are made
    assert stopped["status"] == "finalizing" and stopped["output_file_id"] is None
    with db.session() as session:
        assert batch_id not in expire_due(session, deadline + timedelta(minutes=1))  # once
        session.execute(update(BatchItem).where(BatchItem.id == second).values(
            status=ItemStatus.DONE, output="world", finish_reason="length", prompt_tokens=3,
            completion_tokens=2, completed_at=deadline + timedelta(seconds=5)))  # fmt: skip
        close_if_finished(session, batch_id)  # what the item's final write does
    expired = show(idle_app, headers, batch_id)
    assert expired["status"] == "expired" and expired["expired_at"] == int(deadline.timestamp())
    assert expired["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    client = idle_app.test_client()

    def content(file_id: str) -> list[dict[str, Any]]:
        answer = client.get(f"/v1/files/{file_id}/content", headers=headers)
        return [json.loads(line) for line in answer.data.decode().splitlines()]

    output = content(expired["output_file_id"])
    assert [(o["custom_id"], o["response"]["body"]["choices"][0]["message"]["content"])
            for o in output] == [("r0", "hello"), ("r1", "world")]  # fmt: skip
    (error,) = content(expired["error_file_id"])
    assert error["custom_id"] == "r2" and error["response"] is None
    assert error["error"]["code"] == "batch_expired"


def test_the_workers_sweep_expires_a_batch_whose_deadline_passed(
    idle_app: Flask, settings: Settings, celery_worker: WorkerProcess
) -> None:
    headers, batch_id = create_batch(idle_app, settings, 2)
    db = idle_app.extensions["queuechat"].db
    with db.session() as session:
        job = session.get(BatchJob, batch_id)
        assert job is not None and job.expires_at is not None
        job.expires_at = as_utc(job.created_at) - timedelta(seconds=1)
    key = idle_app.test_client().post("/api/keys", json={"name": "k"}, headers=headers).json
    server = LiveServer(idle_app)
    try:
        api = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key["key"], max_retries=0)
        expired = wait_for(api, f"batch_{batch_id}", {"expired"}, timeout=60)
        assert expired.output_file_id is None
        assert expired.request_counts is not None and expired.request_counts.failed == 2
        codes = {line["error"]["code"] for line in lines_of(api, expired.error_file_id)}
        assert codes == {"batch_expired"}
    finally:
        server.stop()
