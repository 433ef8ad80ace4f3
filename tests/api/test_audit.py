"""The audit log: each action leaves one event, written by the action's own commit (a refused
action leaves none); the database refuses to change or delete an event; admins filter and
export it; it never holds a password or message content."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from app.models import User
from app.records import AuditEvent
from tests.conftest import register_and_login


def events(client: FlaskClient, admin: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/admin/audit", query_string={**filters, "limit": 200}, headers=admin)
    assert answer.status_code == 200, answer.json
    items: list[dict[str, Any]] = answer.json["items"]
    return items


def user_id_of(app: Flask, username: str) -> int:
    with app.extensions["queuechat"].db.session() as db:
        return int(db.scalar(select(User.id).where(User.username == username)) or 0)


def test_sign_ins_and_failed_sign_ins_are_recorded_without_the_password(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    user = register_and_login(client)
    name = user["X-Username"]
    wrong = client.post("/api/auth/login", json={"username": name, "password": "hunter2 guess"})
    assert wrong.status_code == 401
    failed = events(client, admin_headers, action="sign_in_failed")
    mine = [e for e in failed if e["actor_name"] == name]
    assert len(mine) == 1 and mine[0]["actor_id"] is None and mine[0]["ip"]
    assert "hunter2" not in str(failed)
    signed_in = events(client, admin_headers, action="sign_in", actor_id=user_id_of(app, name))
    assert [(e["actor_name"], e["target_type"]) for e in signed_in] == [(name, "user")]


def test_admin_changes_keys_chats_and_templates_are_recorded(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    user = register_and_login(client)
    user_id = user_id_of(app, user["X-Username"])
    assert (
        client.patch(
            f"/api/admin/users/{user_id}", json={"role": "admin"}, headers=admin_headers
        ).status_code
        == 200
    )
    client.patch(f"/api/admin/users/{user_id}", json={"active": False}, headers=admin_headers)
    about_user = [
        (e["action"], e["details"])
        for e in events(client, admin_headers, target_type="user")
        if e["target_id"] == user_id and e["action"].startswith("user.")
    ]
    assert about_user == [
        ("user.deactivated", {}),
        ("user.role_changed", {"from": "user", "to": "admin"}),
    ]
    other = register_and_login(client)
    key = client.post("/api/keys", json={"name": "ci"}, headers=other).json
    client.delete(f"/api/keys/{key['id']}", headers=other)
    chat = client.post("/api/sessions", json={"title": "plans"}, headers=other).json["id"]
    client.post(f"/api/sessions/{chat}/messages", json={"content": "my secret plan"}, headers=other)
    assert client.delete(f"/api/sessions/{chat}", headers=other).status_code == 204
    actor = user_id_of(app, other["X-Username"])
    mine = [(e["action"], e["target_id"]) for e in events(client, admin_headers, actor_id=actor)]
    assert mine[:3] == [
        ("chat.deleted", chat),
        ("api_key.revoked", key["id"]),
        ("api_key.created", key["id"]),
    ]
    template = client.post(
        "/api/templates",
        json={"name": "audited template", "system_prompt": "be brief"},
        headers=admin_headers,
    ).json
    client.patch(
        f"/api/templates/{template['id']}", json={"name": "renamed"}, headers=admin_headers
    )
    client.delete(f"/api/templates/{template['id']}", headers=admin_headers)
    changes = [
        (e["action"], e["details"])
        for e in events(client, admin_headers, target_type="template")
        if e["target_id"] == template["id"]
    ]
    assert changes == [
        ("template.deleted", {}),
        ("template.updated", {"fields": ["name"]}),
        ("template.created", {"name": "audited template"}),
    ]
    exported = client.get("/api/admin/audit/export", headers=admin_headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert ("chat.deleted", str(chat)) in [(r["action"], r["target_id"]) for r in rows]
    assert "secret plan" not in text and "be brief" not in text  # no content, ever


def test_a_refused_action_leaves_no_event(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    me = client.get("/api/auth/me", headers=admin_headers).json
    before = events(client, admin_headers, actor_id=me["id"])
    demote = client.patch(
        f"/api/admin/users/{me['id']}", json={"role": "user"}, headers=admin_headers
    )
    assert demote.status_code == 409
    taken = client.post(
        "/api/templates", json={"name": "twice", "system_prompt": "x"}, headers=admin_headers
    )
    again = client.post(
        "/api/templates", json={"name": "twice", "system_prompt": "x"}, headers=admin_headers
    )
    assert again.status_code == 409
    after = events(client, admin_headers, actor_id=me["id"])
    assert [e["action"] for e in after[: len(after) - len(before)]] == ["template.created"]
    assert after[0]["target_id"] == taken.json["id"]


def test_events_cannot_be_changed_or_deleted(app: Flask, client: FlaskClient) -> None:
    register_and_login(client)
    database = app.extensions["queuechat"].db
    for statement in (
        update(AuditEvent).values(action="rewritten"),
        delete(AuditEvent),
    ):
        with pytest.raises(DBAPIError, match="append-only"), database.session() as db:
            db.execute(statement)
    with database.session() as db:
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "rewritten")) is None


def test_filters_and_bad_queries(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    answer = client.get("/api/admin/audit?since=2999-01-01T00:00:00Z", headers=admin_headers)
    assert answer.json["items"] == [] and "sign_in_failed" in answer.json["actions"]
    for query in ("limit=0", "limit=1000", "since=yesterday", "actor_id=-1", "colour=red"):
        bad = client.get(f"/api/admin/audit?{query}", headers=admin_headers)
        assert bad.status_code == 422, (query, bad.json)


def test_moments_with_any_offset_are_read_in_utc(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """PostgreSQL takes offsets only up to 15:59 (schemathesis sent -16:45 and got a 500): a
    moment is read in UTC first; one whose UTC has no year 1-9999 is refused."""
    register_and_login(client)  # an event now
    # 23:30 at -16:45 on the eve is 16:15 UTC the day after: still before now, so nothing
    found = client.get(
        "/api/admin/audit?since=2999-12-31T23:30:00-16:45", headers=admin_headers
    )
    assert found.status_code == 200, found.json
    assert found.json["items"] == []
    every = client.get("/api/admin/audit?since=2000-01-01T23:30:00%2B22:28", headers=admin_headers)
    assert every.status_code == 200 and every.json["items"], every.json
    export = client.get(
        "/api/admin/feedback/export?until=1411-04-27T23:17:44.564-16:45", headers=admin_headers
    )
    assert export.status_code == 200, export.data[:200]
    out_of_range = client.get(
        "/api/admin/audit?since=0001-01-01T00:00:00%2B05:00", headers=admin_headers
    )
    assert out_of_range.status_code == 422, out_of_range.json
    assert "years 1 to 9999" in str(out_of_range.json)
