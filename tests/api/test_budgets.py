"""Token budgets: set by admins (a default and per user), refused with 429 and the reset time
before anything is queued, and a reply that reaches the budget stops with finish_reason
"budget" (real worker, real model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.config import Settings
from app.models import Message, User, utcnow
from app.records import UsageRecord
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import register_and_login


def user_id_of(app: Flask, headers: dict[str, str]) -> int:
    with app.extensions["queuechat"].db.session() as db:
        found = db.scalar(select(User.id).where(User.username == headers["X-Username"]))
    assert found is not None
    return int(found)


def spend(app: Flask, user_id: int, tokens: int, day: date | None = None) -> None:
    """Usage from earlier replies (as a worker records it)."""
    with app.extensions["queuechat"].db.session() as db:
        db.add(
            UsageRecord(
                user_id=user_id,
                kind="chat",
                job_id=-(10**9) - db.scalar(select(func.count()).select_from(UsageRecord)),
                model_name="earlier",
                prompt_tokens=tokens,
                completion_tokens=0,
                day=day or utcnow().date(),
            )
        )


def set_budget(
    client: FlaskClient, admin: dict[str, str], user_id: int | None, **limits: Any
) -> Any:
    path = (
        "/api/admin/budgets/default" if user_id is None else f"/api/admin/budgets/users/{user_id}"
    )
    body = {"daily_tokens": None, "monthly_tokens": None, **limits}
    answer = client.put(path, json=body, headers=admin)
    assert answer.status_code == 200, answer.json
    return answer.json


@pytest.fixture()
def default_budget_restored(client: FlaskClient, admin_headers: dict[str, str]) -> Iterator[None]:
    yield
    set_budget(client, admin_headers, None)


def send(client: FlaskClient, headers: dict[str, str], max_tokens: int = 8) -> Any:
    chat = client.post("/api/sessions", json={}, headers=headers).json["id"]
    return client.post(
        f"/api/sessions/{chat}/messages",
        json={"content": "Tell me a long story about the sea.", "max_tokens": max_tokens},
        headers=headers,
    )


def midnight(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def test_a_spent_budget_refuses_before_anything_is_queued(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    user = register_and_login(client)
    user_id = user_id_of(app, user)
    set_budget(client, admin_headers, user_id, daily_tokens=100)
    spend(app, user_id, 100)
    with app.extensions["queuechat"].db.session() as db:
        before = db.scalar(select(func.count()).select_from(Message))
    refused = send(client, user)
    assert refused.status_code == 429, refused.json
    error = refused.json["error"]
    today = utcnow().date()
    assert error["code"] == "budget_exceeded"
    assert error["details"]["resets_at"] == midnight(today + timedelta(days=1))
    assert error["details"]["daily_used"] == 100 and error["details"]["daily_limit"] == 100
    assert 0 < int(refused.headers["Retry-After"]) <= 86400
    key = client.post("/api/keys", json={"name": "k"}, headers=user).json["key"]
    api = client.post(
        "/v1/chat/completions",
        json={"model": settings.served_model_name, "messages": [{"role": "user", "content": "x"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 429 and api.json["error"]["code"] == "budget_exceeded"
    batch = client.post(
        "/api/batches",
        data=json.dumps({"custom_id": "a", "prompt": "hi", "max_tokens": 1}),
        headers={**user, "Content-Type": "application/jsonl"},
    )
    assert batch.status_code == 429 and batch.json["error"]["code"] == "budget_exceeded"
    with app.extensions["queuechat"].db.session() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == before  # nothing stored

    # the month's budget: spent until the first of next month
    set_budget(client, admin_headers, user_id, monthly_tokens=150)
    spend(app, user_id, 50, today.replace(day=1))
    refused = send(client, user)
    assert refused.status_code == 429
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    assert refused.json["error"]["details"]["resets_at"] == midnight(first)
    mine = client.get("/api/usage", headers=user).json["budget"]
    assert (mine["monthly_limit"], mine["monthly_used"]) == (150, 150)


def test_the_default_applies_to_users_without_their_own(
    app: Flask,
    client: FlaskClient,
    admin_headers: dict[str, str],
    default_budget_restored: None,
) -> None:
    user = register_and_login(client)
    user_id = user_id_of(app, user)
    spend(app, user_id, 30)
    listed = set_budget(client, admin_headers, None, daily_tokens=30)
    assert listed["default"]["daily_tokens"] == 30
    assert send(client, user).status_code == 429
    set_budget(client, admin_headers, user_id, daily_tokens=1000)  # their own replaces it
    assert send(client, user).status_code == 202
    cleared = client.delete(f"/api/admin/budgets/users/{user_id}", headers=admin_headers)
    assert cleared.status_code == 200
    assert user_id not in [u["user_id"] for u in cleared.json["users"]]
    assert send(client, user).status_code == 429


def test_budget_bodies_are_checked(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    for body in (
        {"daily_tokens": 0},
        {"daily_tokens": -5},
        {"daily_tokens": "many"},
        {"monthly_tokens": 10**13},
        {"weekly_tokens": 5},
    ):
        answer = client.put("/api/admin/budgets/default", json=body, headers=admin_headers)
        assert answer.status_code == 422, (body, answer.json)
    missing = client.put(
        "/api/admin/budgets/users/999999999", json={"daily_tokens": 5}, headers=admin_headers
    )
    assert missing.status_code == 404
    default = client.get("/api/admin/budgets", headers=admin_headers).json["default"]
    assert (default["daily_tokens"], default["monthly_tokens"]) == (None, None)


def test_a_reply_stops_at_the_budget(
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    admin_headers: dict[str, str],
    celery_worker: WorkerProcess,
) -> None:
    user = register_and_login(client)
    user_id = user_id_of(app, user)
    set_budget(client, admin_headers, user_id, daily_tokens=1000)
    spend(app, user_id, 995)  # 5 tokens left
    sent = send(client, user, max_tokens=40)
    assert sent.status_code == 202, sent.json
    message_id = sent.json["assistant_message_id"]

    def stored() -> Any:
        return client.get(f"/api/messages/{message_id}", headers=user).json

    wait_until(lambda: stored()["status"] == "done", timeout=90, what="the reply")
    reply = stored()
    assert reply["completion_tokens"] == 5 and reply["finish_reason"] == "budget", reply
    # the prompt's tokens count too: nothing is left now
    assert send(client, user).status_code == 429
    # an API completion stops the same way
    set_budget(client, admin_headers, user_id, daily_tokens=995 + reply["prompt_tokens"] + 5 + 3)
    key = client.post("/api/keys", json={"name": "k"}, headers=user).json["key"]
    api = client.post(
        "/v1/chat/completions",
        json={
            "model": settings.served_model_name,
            "messages": [{"role": "user", "content": "Tell me a long story about the sea."}],
            "max_tokens": 40,
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 200, api.json
    assert api.json["choices"][0]["finish_reason"] == "budget"
    assert api.json["usage"]["completion_tokens"] == 3


def test_a_batch_must_fit_what_is_left(idle_app: Flask, admin_headers: dict[str, str]) -> None:
    """No worker takes these jobs (idle_app): their reservations stay until the end."""
    app, client = idle_app, idle_app.test_client()
    user = register_and_login(client)
    user_id = user_id_of(app, user)
    set_budget(client, admin_headers, user_id, daily_tokens=100)
    lines = [{"custom_id": str(i), "prompt": "hi", "max_tokens": 60} for i in range(2)]
    body = "\n".join(json.dumps(line) for line in lines)
    headers = {**user, "Content-Type": "application/jsonl"}
    refused = client.post("/api/batches", data=body, headers=headers)
    assert refused.status_code == 429 and "120" in refused.json["error"]["message"]
    lines = [{"custom_id": str(i), "prompt": "hi", "max_tokens": 40} for i in range(2)]
    body = "\n".join(json.dumps(line) for line in lines)
    assert client.post("/api/batches", data=body, headers=headers).status_code == 202
    # the queued items hold 80 of the 100 tokens: a reply may reserve the 20 left, no more
    sent = send(client, user, max_tokens=50)
    assert sent.status_code == 202
    with app.extensions["queuechat"].db.session() as db:
        reply = db.get_one(Message, sent.json["assistant_message_id"])
        assert reply.reserved_tokens == 20
    cancelled = client.post(
        f"/api/messages/{sent.json['assistant_message_id']}/cancel", headers=user
    )
    assert cancelled.status_code in (200, 202)
