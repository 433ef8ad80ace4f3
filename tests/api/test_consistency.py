"""Leaks and inconsistencies found when QueueChat was tried as a new user would: inactive
templates shown to everyone, naive datetimes in read responses, an unbounded seed, no security
headers from the run command's own server."""

from __future__ import annotations

import re
from datetime import datetime

from flask.testing import FlaskClient

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_inactive_templates_are_for_admins_only(
    client: FlaskClient, auth_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    body = {"name": "retired-hidden", "system_prompt": "SECRET internal prompt", "active": False}
    created = client.post("/api/templates", json=body, headers=admin_headers)
    assert created.status_code == 201, created.json
    template_id = created.json["id"]
    names = [t["name"] for t in client.get("/api/templates", headers=auth_headers).json["items"]]
    assert "retired-hidden" not in names
    hidden = client.get(f"/api/templates/{template_id}", headers=auth_headers)
    assert hidden.status_code == 404
    assert "SECRET" not in hidden.get_data(as_text=True)
    admin_view = client.get("/api/templates", headers=admin_headers).json["items"]
    assert "retired-hidden" in [t["name"] for t in admin_view]
    assert client.get(f"/api/templates/{template_id}", headers=admin_headers).status_code == 200


def test_every_moment_is_utc_with_its_offset_on_create_and_on_read(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    created = client.post("/api/sessions", json={"title": "times"}, headers=auth_headers).json
    read = client.get(f"/api/sessions/{created['id']}", headers=auth_headers).json
    listed = client.get("/api/sessions", headers=auth_headers).json["items"][0]
    me = client.get("/api/auth/me", headers=auth_headers).json
    for body in (created, read, listed):
        for field in ("created_at", "updated_at"):
            assert RFC3339_UTC.match(body[field]), (field, body[field])
    assert RFC3339_UTC.match(me["created_at"]), me
    assert datetime.fromisoformat(read["created_at"]) == datetime.fromisoformat(
        created["created_at"]
    )


def test_the_seed_has_one_bound_everywhere(
    client: FlaskClient, auth_headers: dict[str, str], chat_id: int
) -> None:
    too_big = 2**31
    chat = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": "hi", "seed": too_big},
        headers=auth_headers,
    )
    assert chat.status_code == 422
    model = client.get("/v1/models", headers=auth_headers).json["data"][0]["id"]
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "seed": too_big}
    api = client.post("/v1/chat/completions", json=body, headers=auth_headers)
    assert api.status_code == 422, api.json
    line = b'{"custom_id": "a", "prompt": "hi", "seed": 2147483648}\n'
    headers = {**auth_headers, "Content-Type": "application/jsonl"}
    batch = client.post("/api/batches", data=line, headers=headers)
    assert batch.status_code == 422, batch.json
    assert "seed" in batch.json["error"]["details"][0]["message"]


def test_the_app_server_sends_security_headers(client: FlaskClient) -> None:
    for path in ("/healthz", "/api/sessions", "/"):  # a JSON answer, an error, the UI
        response = client.get(path)
        response.close()
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
