"""Batches over HTTP: whole-file validation, a small batch run by a real worker, cancel, caps."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.config import Settings
from app.models import BatchItem, BatchJob
from app.services.work_caps import open_replies
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import isolated_settings, register_and_login
from workers.inference.model import Sampling, load_model
from workers.inference.sequence import Request


def jsonl(*rows: dict[str, Any] | str) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def submit(client: FlaskClient, headers: dict[str, str], data: bytes, **query: str) -> Any:
    return client.post(
        "/api/batches",
        data=data,
        query_string=query,
        headers={**headers, "Content-Type": "application/jsonl"},
    )


def wait_finished(client: FlaskClient, headers: dict[str, str], batch_id: int) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch = client.get(f"/api/batches/{batch_id}", headers=headers).json
        if batch["progress"] == 1.0:
            return batch
        time.sleep(0.2)
    raise TimeoutError(f"batch {batch_id} did not finish: {batch}")


def results(client: FlaskClient, headers: dict[str, str], batch_id: int) -> list[Any]:
    response = client.get(f"/api/batches/{batch_id}/results", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/jsonl"
    return [json.loads(line) for line in response.data.decode().splitlines()]


@pytest.fixture()
def idle_client(settings: Settings) -> Iterator[FlaskClient]:
    """A Redis database no worker consumes, and small per-user caps."""
    app: Flask = create_app(
        isolated_settings(
            settings, 11, max_open_batch_items_per_user=4, max_open_replies_per_user=2
        )
    )
    yield app.test_client()
    app.extensions["queuechat"].db.dispose()


def test_invalid_file_names_lines_and_queues_nothing(
    client: FlaskClient, auth_headers: dict[str, str], app: Flask
) -> None:
    data = jsonl(
        {"custom_id": "a", "prompt": "hi"},
        "{not json",
        {"custom_id": "a", "prompt": "again"},
        {"custom_id": "c", "prompt": "x", "messages": [{"role": "user", "content": "y"}]},
        {"custom_id": "d", "prompt": "x", "max_tokens": 10**6},
        "",
        {"custom_id": "f", "prompt": "ok", "colour": "red"},
    )
    with app.extensions["queuechat"].db.session() as db:
        before = db.scalar(select(func.count()).select_from(BatchJob))
    response = submit(client, auth_headers, data)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["message"].startswith("the batch file has errors on line(s) 2, 3, 4, 5, 7")
    by_line = {d["line"]: d["message"] for d in error["details"]}
    assert "not valid JSON" in by_line[2]
    assert "repeats line 1" in by_line[3]
    assert "exactly one of 'messages' or 'prompt'" in by_line[4]
    assert "over the limit" in by_line[5]
    assert "colour" in by_line[7]
    with app.extensions["queuechat"].db.session() as db:
        assert db.scalar(select(func.count()).select_from(BatchJob)) == before
    assert submit(client, auth_headers, b"\n\n").status_code == 422
    assert client.get("/api/batches").status_code == 401
    assert submit(client, {}, data).json["error"]["code"] == "unauthorized"
    plain = client.post("/api/batches", json={"custom_id": "a"}, headers=auth_headers)
    assert plain.status_code == 415
    assert "JSONL" in plain.json["error"]["message"]
    unknown = submit(
        client, auth_headers, jsonl({"custom_id": "a", "prompt": "x", "template": "nope"})
    )
    assert unknown.status_code == 422
    assert "nope" in unknown.json["error"]["message"]


def test_small_batch_completes_with_correct_results(
    client: FlaskClient,
    auth_headers: dict[str, str],
    other_headers: dict[str, str],
    celery_worker: WorkerProcess,
    settings: Settings,
) -> None:
    rows = [
        {"custom_id": "greet", "prompt": "Say hello.", "max_tokens": 6},
        {"custom_id": "sky", "messages": [{"role": "system", "content": "Be brief."},
                                          {"role": "user", "content": "What colour is the sky?"}],
         "max_tokens": 6, "temperature": 0},
        {"custom_id": "stop", "prompt": "Count from 1 to 10.", "max_tokens": 12, "stop": ["3"]},
    ]  # fmt: skip
    response = submit(client, auth_headers, jsonl(*rows), name="smoke")
    assert response.status_code == 202, response.json
    queued = response.json
    assert queued["name"] == "smoke" and queued["total"] == 3
    batch = wait_finished(client, auth_headers, queued["id"])
    assert batch["status"] == "done"
    assert batch["counts"] == {"queued": 0, "running": 0, "done": 3, "failed": 0, "cancelled": 0}
    assert batch["started_at"] and batch["completed_at"] and batch["elapsed_s"] > 0
    lines = results(client, auth_headers, queued["id"])
    assert [r["custom_id"] for r in lines] == ["greet", "sky", "stop"]
    assert [r["line"] for r in lines] == [1, 2, 3]
    model = load_model(settings.model_copy(update={"n_threads": 1}))
    for row, result in zip(rows, lines, strict=True):
        messages = row.get("messages") or [{"role": "user", "content": row["prompt"]}]
        prompt, stop = model.format(messages)
        tokens = model.tokenize(prompt)
        request = Request(tokens, stop + row.get("stop", []), Sampling(row["max_tokens"], 0.0, 1.0))
        expected = "".join(model.engine.submit(request))
        assert result["status"] == "done" and result["error"] is None
        assert result["output"] == expected and expected
        assert result["usage"]["prompt_tokens"] == len(tokens)
        assert 1 <= result["usage"]["completion_tokens"] <= row["max_tokens"]
    assert "3" not in lines[2]["output"] and lines[2]["finish_reason"] == "stop"
    assert lines[0]["finish_reason"] == "length"
    assert batch["usage"]["completion_tokens"] == sum(
        r["usage"]["completion_tokens"] for r in lines
    )
    assert client.get(f"/api/batches/{queued['id']}", headers=other_headers).status_code == 404
    assert (
        client.get(f"/api/batches/{queued['id']}/results", headers=other_headers).status_code == 404
    )
    listed = client.get("/api/batches", headers=auth_headers).json["items"]
    assert [b["id"] for b in listed] == [queued["id"]]


def test_a_batch_sent_after_a_cancelled_one_is_served(
    client: FlaskClient, auth_headers: dict[str, str], celery_worker: WorkerProcess
) -> None:
    """A running batch cancelled leaves its queued items' tasks for the worker to drop, each in
    a millisecond: the batch queue's gate pauses and resumes hundreds of times in seconds. The
    worker goes on taking batch work: before, a resume that ran ahead of the pause it followed
    (the event loop runs callbacks in no set order) left the queue cancelled for good."""
    rows = [
        {"custom_id": f"n{i}", "prompt": f"Say the number {i}.", "max_tokens": 16}
        for i in range(300)
    ]
    first = submit(client, auth_headers, jsonl(*rows)).json
    url = f"/api/batches/{first['id']}"
    wait_until(
        lambda: client.get(url, headers=auth_headers).json["counts"]["done"] >= 2,
        timeout=120,
        what="the first batch to start",
    )
    cancelled = client.post(f"/api/batches/{first['id']}/cancel", headers=auth_headers)
    assert cancelled.status_code == 202 and cancelled.json["counts"]["cancelled"] > 250
    rows = [{"custom_id": f"after{i}", "prompt": "Say yes.", "max_tokens": 4} for i in range(2)]
    second = submit(client, auth_headers, jsonl(*rows)).json
    batch = wait_finished(client, auth_headers, second["id"])
    assert batch["counts"] == {"queued": 0, "running": 0, "done": 2, "failed": 0, "cancelled": 0}
    assert [line["custom_id"] for line in results(client, auth_headers, second["id"])] == [
        "after0",
        "after1",
    ]


def test_cancel_stops_queued_items(idle_client: FlaskClient, settings: Settings) -> None:
    headers = register_and_login(idle_client)
    rows = [{"custom_id": f"r{i}", "prompt": "hi", "max_tokens": 4} for i in range(3)]
    batch = submit(idle_client, headers, jsonl(*rows)).json
    assert batch["status"] == "queued" and batch["counts"]["queued"] == 3
    cancelled = idle_client.post(f"/api/batches/{batch['id']}/cancel", headers=headers)
    assert cancelled.status_code == 202
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["counts"]["cancelled"] == 3 and cancelled.json["progress"] == 1.0
    again = idle_client.post(f"/api/batches/{batch['id']}/cancel", headers=headers)
    assert again.status_code == 409
    lines = results(idle_client, headers, batch["id"])
    assert [(r["custom_id"], r["status"], r["output"]) for r in lines] == [
        ("r0", "cancelled", None), ("r1", "cancelled", None), ("r2", "cancelled", None)
    ]  # fmt: skip


def test_per_user_caps_answer_429_with_retry_after(idle_client: FlaskClient) -> None:
    headers = register_and_login(idle_client)
    rows = [{"custom_id": f"r{i}", "prompt": "hi"} for i in range(3)]
    assert submit(idle_client, headers, jsonl(*rows)).status_code == 202
    over = submit(idle_client, headers, jsonl(*rows[:2]))
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) > 0
    assert over.json["error"]["code"] == "too_many_requests"
    assert "the most allowed is 4" in over.json["error"]["message"]
    assert submit(idle_client, headers, jsonl(rows[0])).status_code == 202

    for expected in (202, 202, 429):
        chat = idle_client.post("/api/sessions", json={}, headers=headers).json
        sent = idle_client.post(
            f"/api/sessions/{chat['id']}/messages", json={"content": "hi"}, headers=headers
        )
        assert sent.status_code == expected, sent.json
    assert int(sent.headers["Retry-After"]) > 0
    assert "replies queued or generating" in sent.json["error"]["message"]
    other = register_and_login(idle_client)
    assert submit(idle_client, other, jsonl(*rows)).status_code == 202


def send_together(
    app: Flask, requests: list[tuple[str, dict[str, Any]]], headers: Any
) -> list[int]:
    """Sends the requests at the same moment, one thread and client each; their statuses."""
    barrier = threading.Barrier(len(requests))

    def send(path: str, body: dict[str, Any]) -> int:
        client = app.test_client()
        barrier.wait()
        return client.post(path, json=body, headers=headers).status_code

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(lambda r: send(*r), requests))


def test_simultaneous_requests_cannot_pass_the_cap_together(idle_client: FlaskClient) -> None:
    app: Flask = idle_client.application
    headers = register_and_login(idle_client)
    chats = [idle_client.post("/api/sessions", json={}, headers=headers).json for _ in range(6)]
    statuses = send_together(
        app, [(f"/api/sessions/{c['id']}/messages", {"content": "hi"}) for c in chats], headers
    )
    assert sorted(statuses) == [202, 202, 429, 429, 429, 429]  # the cap is 2
    with app.extensions["queuechat"].db.session() as db:
        assert (
            open_replies(db, int(idle_client.get("/api/auth/me", headers=headers).json["id"])) == 2
        )

    other = register_and_login(idle_client)
    chat = idle_client.post("/api/sessions", json={}, headers=other).json
    same_chat = [(f"/api/sessions/{chat['id']}/messages", {"content": "hi"})] * 2
    assert sorted(send_together(app, same_chat, other)) == [202, 409]  # one open reply per chat


def test_items_belong_to_the_batch_and_owner(idle_client: FlaskClient, settings: Settings) -> None:
    headers = register_and_login(idle_client)
    batch = submit(idle_client, headers, jsonl({"custom_id": "x", "prompt": "hi"})).json
    app = idle_client.application
    with app.extensions["queuechat"].db.session() as db:
        item = db.scalars(select(BatchItem).where(BatchItem.batch_id == batch["id"])).one()
        assert item.custom_id == "x" and item.line == 1 and item.status == "queued"
        assert item.request["messages"] == [{"role": "user", "content": "hi"}]
        assert item.request["sampling"]["max_tokens"] == settings.default_max_tokens
