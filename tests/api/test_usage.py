"""Usage accounting with a real worker and the real model: a chat reply, an API completion
through a key and a batch item each leave one record with their final state; a user sees their
own, an admin everyone's (by user, key, model and day) and a CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.config import Settings
from app.models import BatchItem, Message
from app.records import UsageRecord
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import register_and_login


def reply_of(client: FlaskClient, headers: dict[str, str], text: str, max_tokens: int) -> Any:
    chat = client.post("/api/sessions", json={}, headers=headers).json["id"]
    sent = client.post(
        f"/api/sessions/{chat}/messages",
        json={"content": text, "max_tokens": max_tokens},
        headers=headers,
    )
    assert sent.status_code == 202, sent.json
    message_id = sent.json["assistant_message_id"]

    def stored() -> Any:
        return client.get(f"/api/messages/{message_id}", headers=headers).json

    wait_until(lambda: stored()["status"] == "done", timeout=90, what="the reply")
    return stored()


def test_every_kind_of_generation_is_counted_once_by_user_key_model_and_day(
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    celery_worker: WorkerProcess,
    admin_headers: dict[str, str],
) -> None:
    user = register_and_login(client)
    other = register_and_login(client)
    reply = reply_of(client, user, "Say hi.", 4)
    key = client.post("/api/keys", json={"name": "laptop"}, headers=user).json
    completion = client.post(
        "/v1/chat/completions",
        json={
            "model": settings.served_model_name,
            "messages": [{"role": "user", "content": "Say yes."}],
            "max_tokens": 3,
        },
        headers={"Authorization": f"Bearer {key['key']}"},
    )
    assert completion.status_code == 200, completion.json
    api_usage = completion.json["usage"]
    batch = client.post(
        "/api/batches",
        data=json.dumps({"custom_id": "a", "prompt": "Say no.", "max_tokens": 2}),
        headers={**user, "Content-Type": "application/jsonl"},
    ).json
    wait_until(
        lambda: client.get(f"/api/batches/{batch['id']}", headers=user).json["status"] == "done",
        timeout=90,
        what="the batch",
    )
    with app.extensions["queuechat"].db.session() as db:
        item = db.scalars(select(BatchItem).where(BatchItem.batch_id == batch["id"])).one()
        records = db.scalars(select(UsageRecord).where(UsageRecord.user_id == item.owner_id)).all()
        message = db.get_one(Message, reply["id"])
        assert message.finish_reason in ("stop", "length")
    kinds = sorted((r.kind, r.prompt_tokens, r.completion_tokens, r.api_key_id) for r in records)
    assert kinds == sorted(
        [
            ("chat", reply["prompt_tokens"], reply["completion_tokens"], None),
            ("api", api_usage["prompt_tokens"], api_usage["completion_tokens"], key["id"]),
            ("batch", item.prompt_tokens, item.completion_tokens, None),
        ]
    )
    tokens = sum(r.prompt_tokens + r.completion_tokens for r in records)

    mine = client.get("/api/usage", headers=user).json
    assert mine["totals"]["requests"] == 3 and mine["totals"]["total_tokens"] == tokens
    assert mine["by_day"][-1]["total_tokens"] == tokens and len(mine["by_day"]) == 30
    assert [m["model"] for m in mine["by_model"]] == [settings.served_model_name]
    by_key = {k["api_key_id"]: k for k in mine["by_key"]}
    assert by_key[key["id"]]["api_key_name"] == "laptop"
    assert by_key[key["id"]]["total_tokens"] == api_usage["total_tokens"]
    assert mine["budget"]["daily_used"] == tokens and mine["budget"]["daily_limit"] is None
    assert client.get("/api/usage", headers=other).json["totals"]["requests"] == 0
    assert client.get("/api/admin/usage", headers=user).status_code == 403

    user_id = item.owner_id
    everyone = client.get(f"/api/admin/usage?user_id={user_id}", headers=admin_headers).json
    assert [(u["username"], u["total_tokens"]) for u in everyone["by_user"]] == [
        (user["X-Username"], tokens)
    ]
    exported = client.get(f"/api/admin/usage/export?user_id={user_id}", headers=admin_headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert sorted((r["kind"], r["api_key_name"], r["username"]) for r in rows) == [
        ("api", "laptop", user["X-Username"]),
        ("batch", "", user["X-Username"]),
        ("chat", "", user["X-Username"]),
    ]
    assert sum(int(r["total_tokens"]) for r in rows) == tokens


def test_report_windows_are_bounded(
    client: FlaskClient, auth_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    for query in (
        "start=2026-02-01&end=2026-01-01",
        "start=2020-01-01&end=2026-01-01",
        "end=0001-01-02",
        "start=yesterday",
        "user_id=0",
        "extra=1",
    ):
        answer = client.get(f"/api/usage?{query}", headers=auth_headers)
        assert answer.status_code == 422, (query, answer.json)
        assert answer.json["error"]["code"] == "invalid_input"
    window = client.get("/api/usage?start=2026-01-01&end=2026-01-03", headers=auth_headers).json
    assert [d["day"] for d in window["by_day"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    csv_answer = client.get("/api/admin/usage/export?start=2026-01-01", headers=admin_headers)
    assert csv_answer.status_code == 200
    assert csv_answer.get_data(as_text=True).splitlines()[0].startswith("day,user_id,username")
