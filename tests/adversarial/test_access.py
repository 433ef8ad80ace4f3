"""The access matrix, derived from the URL map: every route is listed here with who may use it,
so a new route without a row fails this suite. Anonymous callers get 401 everywhere but the
public routes, ordinary users 403 on admin routes, and another user's objects are 404 (the
same answer as a missing row), over REST and over the WebSocket, and stay untouched."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.enums import MessageRole, MessageStatus
from app.models import Message
from testkit.processes import LiveServer
from testkit.wsclient import ChatSocket, token_of
from tests.conftest import register_and_login

PUBLIC = {
    "frontend.spa", "static", "auth.auth_config", "auth.login", "auth.register", "meta.openapi",
    "meta.healthz", "metrics.metrics", "health.readyz",
    "sso.login", "sso.callback", "sso.exchange",  # single sign-on: tests/api/test_sso.py
    "ws.chat_socket",  # authenticates with its first frame: see the socket test below
}  # fmt: skip
SIGNED_IN = {
    "auth.logout", "auth.me", "auth.refresh", "batches.submit_batch", "batches.list_batches",
    "api_keys.create_key", "api_keys.list_keys", "sessions.list_sessions",
    "sessions.create_session", "templates.list_templates", "templates.show_template",
    "openai.chat_completions", "openai.embeddings", "openai.list_models", "catalog.list_models",
    "usage.my_usage",
    "openai_completions.create_completion", "openai_files.upload_file",
    "openai_files.list_files", "openai_batches.create_batch", "openai_batches.list_batches",
    "catalog.message_limits", "sessions.import_sessions", "search.search_messages",
    "shares.read_shared",  # a link is for any signed-in user: tests/api/test_shares.py
}  # fmt: skip
ADMIN = {
    "admin_system.system_status", "admin_users.list_users", "admin_users.update_user",
    "documents.upload", "documents.list_documents", "documents.show_document",
    "documents.delete_document", "documents.download", "documents.reindex",
    "templates.create_template", "templates.update_template", "templates.delete_template",
    "templates.make_default", "templates.replace_examples",
    "feedback.list_feedback", "feedback.export_feedback", "usage.all_usage",
    "usage.export_usage", "admin_budgets.list_budgets", "admin_budgets.set_default",
    "admin_budgets.set_user_budget", "admin_budgets.clear_user_budget",
    "admin_audit.list_audit", "admin_audit.export_audit",
}  # fmt: skip
OWNED = {  # the path parameter names the owner's object
    "batches.show_batch", "batches.cancel_batch", "batches.batch_results", "api_keys.revoke_key",
    "messages.show_message", "messages.cancel", "sessions.show_session", "sessions.update_session",
    "sessions.delete_session", "messages.list_messages", "messages.send_message",
    "messages.regenerate", "feedback.rate_reply", "feedback.withdraw_rating",
    "openai_files.retrieve_file", "openai_files.file_content",
    "openai_files.delete_file", "openai_batches.retrieve_batch", "openai_batches.cancel_batch",
    "messages.delete_pair", "sessions.export_session", "shares.share_chat", "shares.list_shares",
    "shares.revoke_share", "messages.edit_message", "messages.show_version",
    "chat_files.attach", "chat_files.list_files", "chat_files.delete_file",
}  # fmt: skip
# bodies that pass validation, so that what answers is the access check, not the parser
BODIES: dict[str, dict[str, Any]] = {
    "sessions.update_session": {"title": "taken over"},
    "messages.send_message": {"content": "hello"},
    "messages.edit_message": {"content": "taken over"},
    "messages.regenerate": {},
    "feedback.rate_reply": {"rating": "down", "comment": "taken over"},
    "admin_users.update_user": {"active": False},
    "templates.update_template": {"name": "taken over"},
    "templates.replace_examples": {"examples": []},
    "templates.create_template": {"name": "intruder", "system_prompt": "x"},
    "admin_budgets.set_default": {"daily_tokens": 1},
    "admin_budgets.set_user_budget": {"daily_tokens": 1},
}


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route the app serves."""
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def call(
    client: FlaskClient, method: str, path: str, endpoint: str, headers: dict[str, str]
) -> Any:
    return client.open(path, method=method, json=BODIES.get(endpoint), headers=headers)


@pytest.fixture()
def owners_objects(client: FlaskClient, app: Flask) -> tuple[dict[str, str], dict[str, Any]]:
    """An owner with one of everything: a chat with a message pair and a link to it, a batch, an
    API key, a Batch API file and batch."""
    owner = register_and_login(client)
    chat = client.post("/api/sessions", json={"title": "private"}, headers=owner).json["id"]
    with app.extensions["queuechat"].db.session() as db:
        asked = Message(session_id=chat, role=MessageRole.USER, content="secret question")
        reply = Message(session_id=chat, parent=asked, role=MessageRole.ASSISTANT,
                        status=MessageStatus.DONE, content="ok")  # fmt: skip
        db.add(reply)
        db.flush()
        message = reply.id
    share = client.post(f"/api/sessions/{chat}/shares", headers=owner).json["id"]
    attached = client.post(f"/api/sessions/{chat}/files", headers=owner,
                           data={"files": (io.BytesIO(b"Private notes."), "notes.txt")},
                           content_type="multipart/form-data")  # fmt: skip
    assert attached.status_code == 202, attached.json
    batch = client.post(
        "/api/batches?name=private",
        data=b'{"custom_id": "a", "prompt": "hi"}\n',
        headers={**owner, "Content-Type": "application/jsonl"},
    ).json["id"]
    key = client.post("/api/keys", json={"name": "private"}, headers=owner).json["id"]
    line = {"custom_id": "a", "method": "POST", "url": "/v1/completions",
            "body": {"model": app.extensions["queuechat"].settings.served_model_name,
                     "prompt": "hi", "max_tokens": 1}}  # fmt: skip
    upload = client.post(
        "/v1/files",
        data={"purpose": "batch", "file": (io.BytesIO(json.dumps(line).encode()), "in.jsonl")},
        headers=owner,
        content_type="multipart/form-data",
    ).json["id"]
    api_batch = client.post(
        "/v1/batches",
        json={"input_file_id": upload, "endpoint": "/v1/completions", "completion_window": "24h"},
        headers=owner,
    ).json["id"]
    ids = {"session_id": chat, "message_id": message, "batch_id": batch, "key_id": key,
           "share_id": share, "attachment_id": attached.json["items"][0]["id"]}  # fmt: skip
    # the Batch API's ids are strings in the path, as OpenAI's are
    return owner, {**ids, "file_id": upload, "api_batch_id": api_batch}


def fill(rule: str, ids: dict[str, Any]) -> str:
    if rule.startswith("/v1/batches/"):  # a Batch API batch ("batch_7"), not an /api/ one
        ids = {**ids, "batch_id": ids.get("api_batch_id", 1)}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule)


def test_every_route_has_a_row_in_the_access_matrix(app: Flask) -> None:
    listed = PUBLIC | SIGNED_IN | ADMIN | OWNED
    served = {endpoint for endpoint, _, _ in routes(app)}
    assert served - listed == set(), "a route without a row in the access matrix"
    assert listed - served == set(), "a row for a route that no longer exists"


def test_anonymous_callers_get_401_everywhere_but_the_public_routes(
    app: Flask, client: FlaskClient
) -> None:
    checked = 0
    for endpoint, method, rule in routes(app):
        if endpoint in PUBLIC:
            continue
        response = call(client, method, fill(rule, {}), endpoint, {})
        assert response.status_code == 401, (endpoint, method, response.status_code)
        assert response.json["error"]["code"] == "unauthorized"
        checked += 1
    print(f"\naccess matrix: {checked} routes anonymous -> 401")  # noqa: T201  (the table's)


def test_ordinary_users_get_403_on_admin_routes(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    checked = 0
    for endpoint, method, rule in routes(app):
        if endpoint in ADMIN:
            response = call(client, method, fill(rule, {}), endpoint, auth_headers)
            assert response.status_code == 403, (endpoint, method, response.status_code)
            assert response.json["error"]["code"] == "forbidden"
            checked += 1
    print(f"\naccess matrix: {checked} admin routes as a user -> 403")  # noqa: T201


def test_another_users_objects_are_404_and_untouched(
    app: Flask,
    client: FlaskClient,
    owners_objects: tuple[dict[str, str], dict[str, Any]],
    other_headers: dict[str, str],
) -> None:
    owner, ids = owners_objects
    missing = dict.fromkeys(ids, 2**62)  # ids no row has: the answer must be the same
    checked = 0
    for endpoint, method, rule in routes(app):
        if endpoint not in OWNED:
            continue
        theirs = call(client, method, fill(rule, ids), endpoint, other_headers)
        nobodys = call(client, method, fill(rule, missing), endpoint, other_headers)
        assert theirs.status_code == 404, (endpoint, method, theirs.status_code, theirs.json)
        assert theirs.json == nobodys.json, endpoint  # nothing tells "yours" from "none"
        checked += 1
    print(f"\naccess matrix: {checked} object routes as another user -> 404")  # noqa: T201
    chat = client.get(f"/api/sessions/{ids['session_id']}", headers=owner)
    assert chat.status_code == 200 and chat.json["title"] == "private"
    messages = client.get(f"/api/sessions/{ids['session_id']}/messages", headers=owner).json
    assert [m["content"] for m in messages["items"]] == ["secret question", "ok"]
    files = client.get(f"/api/sessions/{ids['session_id']}/files", headers=owner).json["items"]
    assert [f["id"] for f in files] == [ids["attachment_id"]]
    links = client.get(f"/api/sessions/{ids['session_id']}/shares", headers=owner).json["items"]
    assert [link["id"] for link in links] == [ids["share_id"]]
    assert client.get(f"/api/batches/{ids['batch_id']}", headers=owner).json["status"] == "queued"
    keys = client.get("/api/keys", headers=owner).json["items"]
    assert [k["revoked_at"] for k in keys] == [None]
    assert client.get(f"/v1/files/{ids['file_id']}/content", headers=owner).status_code == 200
    api_batch = client.get(f"/v1/batches/{ids['api_batch_id']}", headers=owner).json
    assert api_batch["status"] != "cancelled" and api_batch["cancelling_at"] is None


def test_another_users_reply_over_the_socket_is_not_found(
    client: FlaskClient,
    live_server: LiveServer,
    owners_objects: tuple[dict[str, str], dict[str, Any]],
    other_headers: dict[str, str],
) -> None:
    owner, ids = owners_objects
    sock = ChatSocket(live_server.ws_url, token_of(other_headers))
    for command in ("subscribe", "cancel", "unsubscribe"):
        sock.send({"type": command, "message_id": ids["message_id"]})
        answer = sock.recv()
        assert (answer["type"], answer["code"]) == ("problem", "not_found"), (command, answer)
    sock.send({"type": "subscribe_documents"})
    assert sock.recv()["code"] == "forbidden"
    sock.close()
    stored = client.get(f"/api/messages/{ids['message_id']}", headers=owner).json
    assert stored["status"] == "done" and stored["content"] == "ok"
