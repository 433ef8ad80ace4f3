"""Admin API: accounts (list, role, active) and the system overview, admins only."""

from __future__ import annotations

import time

import gevent
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.enums import Role
from app.models import User
from testkit.processes import WorkerProcess
from tests.conftest import register_and_login


def promote(app: Flask, username: str) -> None:
    with app.extensions["queuechat"].db.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        user.role = Role.ADMIN


def admin_headers(app: Flask, client: FlaskClient) -> dict[str, str]:
    headers = register_and_login(client)
    promote(app, headers["X-Username"])
    return headers


def user_id(client: FlaskClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/auth/me", headers=headers).json["id"])  # type: ignore[index]


def test_admin_lists_users(app: Flask, client: FlaskClient, auth_headers: dict[str, str]) -> None:
    admin = admin_headers(app, client)
    response = client.get("/api/admin/users", headers=admin)
    assert response.status_code == 200
    by_name = {item["username"]: item for item in response.json["items"]}  # type: ignore[index]
    assert by_name[admin["X-Username"]]["role"] == "admin"
    assert by_name[auth_headers["X-Username"]]["role"] == "user"
    assert by_name[auth_headers["X-Username"]]["active"] is True
    assert "password_hash" not in by_name[auth_headers["X-Username"]]


def test_non_admin_is_refused(client: FlaskClient, auth_headers: dict[str, str]) -> None:
    assert client.get("/api/admin/users", headers=auth_headers).status_code == 403
    target = user_id(client, auth_headers)
    patched = client.patch(f"/api/admin/users/{target}", json={"role": "admin"},
                           headers=auth_headers)  # fmt: skip
    assert patched.status_code == 403
    assert patched.json["error"]["message"] == "administrators only"  # type: ignore[index]
    assert client.get("/api/admin/system", headers=auth_headers).status_code == 403
    assert client.get("/api/admin/users").status_code == 401
    assert client.get("/api/admin/system").status_code == 401


def test_change_role_and_deactivate(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    admin = admin_headers(app, client)
    target = user_id(client, auth_headers)
    promoted = client.patch(f"/api/admin/users/{target}", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200
    assert promoted.json["role"] == "admin"  # type: ignore[index]
    assert client.get("/api/admin/users", headers=auth_headers).status_code == 200
    demoted = client.patch(f"/api/admin/users/{target}", json={"role": "user"}, headers=admin)
    assert demoted.json["role"] == "user"  # type: ignore[index]
    off = client.patch(f"/api/admin/users/{target}", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json["active"] is False  # type: ignore[index]
    # the deactivated account's tokens stop working, and it cannot log in
    assert client.get("/api/sessions", headers=auth_headers).status_code == 401
    login = client.post("/api/auth/login", json={"username": auth_headers["X-Username"],
                                                 "password": "correct horse battery"})  # fmt: skip
    assert login.status_code == 403
    on = client.patch(f"/api/admin/users/{target}", json={"active": True}, headers=admin)
    assert on.json["active"] is True  # type: ignore[index]
    assert client.get("/api/sessions", headers=auth_headers).status_code == 200


def test_admin_cannot_demote_or_deactivate_self(app: Flask, client: FlaskClient) -> None:
    admin = admin_headers(app, client)
    me = user_id(client, admin)
    for body in ({"role": "user"}, {"active": False}):
        response = client.patch(f"/api/admin/users/{me}", json=body, headers=admin)
        assert response.status_code == 409
        assert "your own account" in response.json["error"]["message"]  # type: ignore[index]
    assert client.get("/api/auth/me", headers=admin).json["role"] == "admin"  # type: ignore[index]


def test_bad_input_is_4xx(app: Flask, client: FlaskClient, auth_headers: dict[str, str]) -> None:
    admin = admin_headers(app, client)
    target = user_id(client, auth_headers)
    cases = [
        ({"role": "root"}, 422),
        ({"active": "no"}, 422),
        ({}, 422),
        ({"role": "admin", "password": "x"}, 422),
    ]
    for body, status in cases:
        response = client.patch(f"/api/admin/users/{target}", json=body, headers=admin)
        assert response.status_code == status, (body, response.json)
        assert response.json["error"]["code"] == "invalid_input"  # type: ignore[index]
    missing = client.patch("/api/admin/users/999999", json={"active": False}, headers=admin)
    assert missing.status_code == 404
    not_json = client.patch(f"/api/admin/users/{target}", data="role=admin", headers=admin)
    assert not_json.status_code == 415


def test_system_shows_queue_depth(idle_app: Flask) -> None:
    client = idle_app.test_client()
    admin = admin_headers(idle_app, client)
    chat = client.post("/api/sessions", json={}, headers=admin).json["id"]  # type: ignore[index]
    posted = client.post(f"/api/sessions/{chat}/messages", json={"content": "hi"}, headers=admin)
    assert posted.status_code == 202
    response = client.get("/api/admin/system", headers=admin)
    assert response.status_code == 200
    body = response.json
    assert body["queues"] == {"inference": 1, "batch": 0, "ingest": 0}  # type: ignore[index]
    assert body["workers"] == []  # type: ignore[index]
    assert body["flower_url"].endswith(":5555/")  # type: ignore[index]


def test_system_lists_live_workers(
    app: Flask, client: FlaskClient, celery_worker: WorkerProcess
) -> None:
    admin = admin_headers(app, client)
    body = client.get("/api/admin/system", headers=admin).json
    prefix = celery_worker.name.split("@")[0]
    assert any(name.startswith(prefix + "@") for name in body["workers"]), body  # type: ignore[index]


def test_a_ping_that_does_not_end_lists_no_workers_instead_of_hanging(
    idle_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gevent web's bound on the broadcast ping (a reply loop once ran for minutes)."""
    client = idle_app.test_client()
    admin = admin_headers(idle_app, client)
    control = idle_app.extensions["queuechat"].jobs.celery.control
    monkeypatch.setattr(control, "ping", lambda timeout: gevent.sleep(600))  # a greenlet's wait
    started = time.monotonic()
    body = client.get("/api/admin/system", headers=admin).json
    assert time.monotonic() - started < 60
    assert body["workers"] == []  # type: ignore[index]
    assert body["queues"] == {"inference": 0, "batch": 0, "ingest": 0}  # type: ignore[index]
