"""A chat shared as a read-only link: signed-in colleagues read it as it was when shared; only
its owner lists or revokes links; a revoked link, or a deleted chat's, reads as not found."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.enums import MessageRole
from app.models import Message
from app.services.shares import MAX_SHARES_PER_CHAT
from tests.api.test_chat_export import seeded_chat


def test_a_shared_chat_reads_as_it_was_when_shared(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    chat_id = seeded_chat(app, client, auth_headers)
    made = client.post(f"/api/sessions/{chat_id}/shares", headers=auth_headers)
    assert made.status_code == 201, made.json
    share = made.json
    assert share["session_id"] == chat_id and share["title"] == "Meals"
    assert share["message_count"] == 3  # the reply still queued is not shared
    assert len(share["token"]) >= 32

    with app.extensions["queuechat"].db.session() as db:  # the chat goes on after sharing
        db.add(Message(session_id=chat_id, role=MessageRole.USER, content="A later secret"))
    read = client.get(f"/api/shared/{share['token']}", headers=other_headers)
    assert read.status_code == 200, read.json
    assert read.json["title"] == "Meals"
    assert read.json["shared_by"] == auth_headers["X-Username"]
    assert [(m["role"], m["content"]) for m in read.json["messages"]] == [
        ("user", "Meal allowance?"),
        ("assistant", "45 euros [1]."),
        ("user", "And breakfast?"),
    ]
    assert read.json["messages"][1]["citations"][0]["title"] == "Travel policy"
    assert client.get(f"/api/shared/{share['token']}").status_code == 401  # signed-in users only


def test_only_the_owner_shares_lists_and_revokes(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    chat_id = seeded_chat(app, client, auth_headers)
    assert client.post(f"/api/sessions/{chat_id}/shares", headers=other_headers).status_code == 404
    share = client.post(f"/api/sessions/{chat_id}/shares", headers=auth_headers).json
    second = client.post(f"/api/sessions/{chat_id}/shares", headers=auth_headers).json
    assert second["token"] != share["token"]
    assert client.get(f"/api/sessions/{chat_id}/shares", headers=other_headers).status_code == 404
    listed = client.get(f"/api/sessions/{chat_id}/shares", headers=auth_headers).json["items"]
    assert [s["id"] for s in listed] == [second["id"], share["id"]]

    assert client.delete(f"/api/shares/{share['id']}", headers=other_headers).status_code == 404
    assert client.get(f"/api/shared/{share['token']}", headers=other_headers).status_code == 200
    assert client.delete(f"/api/shares/{share['id']}", headers=auth_headers).status_code == 204
    gone = client.get(f"/api/shared/{share['token']}", headers=other_headers)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    assert client.get(f"/api/shared/{second['token']}", headers=other_headers).status_code == 200

    assert client.delete(f"/api/sessions/{chat_id}", headers=auth_headers).status_code == 204
    assert client.get(f"/api/shared/{second['token']}", headers=other_headers).status_code == 404


def test_bad_links_and_unshareable_chats_are_refused_clearly(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    for token in ("x", "a" * 100, "..%2F..%2Fetc", "' OR 1=1 --", "A" * 32):
        answer = client.get(f"/api/shared/{token}", headers=auth_headers)
        assert answer.status_code == 404, token
        assert answer.json["error"]["code"] == "not_found"
    empty = client.post("/api/sessions", json={"title": "empty"}, headers=auth_headers).json
    refused = client.post(f"/api/sessions/{empty['id']}/shares", headers=auth_headers)
    assert refused.status_code == 422 and "no messages" in refused.json["error"]["message"]

    chat_id = seeded_chat(app, client, auth_headers)
    for _ in range(MAX_SHARES_PER_CHAT):
        assert (
            client.post(f"/api/sessions/{chat_id}/shares", headers=auth_headers).status_code == 201
        )
    over = client.post(f"/api/sessions/{chat_id}/shares", headers=auth_headers)
    assert over.status_code == 409 and "revoke one first" in over.json["error"]["message"]
