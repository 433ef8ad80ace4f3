"""Message API without a worker: validation, storage, ownership, cancel of a queued reply."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.models import Message
from app.streams import TokenStreams


def count_messages(app: Flask) -> int:
    with app.extensions["queuechat"].db.session() as db:
        return db.scalar(select(func.count()).select_from(Message)) or 0


def test_bad_message_input_stores_nothing(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], chat_id: int
) -> None:
    before = count_messages(app)
    limit = app.extensions["queuechat"].settings.max_message_chars
    cases: list[tuple[Any, str]] = [
        ({"content": ""}, "content"),
        ({"content": "   \n "}, "content"),
        ({"content": "x" * (limit + 1)}, "content"),
        ({"content": 42}, "content"),
        ({"content": None}, "content"),
        ({}, "content"),
        ({"content": "hi", "temperature": 9.0}, "temperature"),
        ({"content": "hi", "temperature": -1}, "temperature"),
        ({"content": "hi", "temperature": "hot"}, "temperature"),
        ({"content": "hi", "top_p": 0}, "top_p"),
        ({"content": "hi", "top_p": 1.5}, "top_p"),
        ({"content": "hi", "max_tokens": 0}, "max_tokens"),
        ({"content": "hi", "max_tokens": 10**6}, "max_tokens"),
        ({"content": "hi", "max_tokens": 1.5}, "max_tokens"),
        ({"content": "hi", "role": "system"}, "role"),
    ]
    for body, field in cases:
        response = client.post(f"/api/sessions/{chat_id}/messages", json=body, headers=auth_headers)
        assert response.status_code == 422, (body, response.json)
        fields = [d["field"] for d in response.json["error"]["details"]]
        assert field in fields, (body, fields)
    bad_json = client.post(
        f"/api/sessions/{chat_id}/messages",
        data='{"content": "hi"',
        headers={**auth_headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert count_messages(app) == before


def test_post_stores_both_rows_before_answering(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    app, client = idle_app, idle_app.test_client()
    response = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": "Hello", "temperature": 0.2, "max_tokens": 7},
        headers=auth_headers,
    )
    assert response.status_code == 202
    body = response.json
    items = client.get(f"/api/sessions/{chat_id}/messages", headers=auth_headers).json["items"]
    assert [(m["id"], m["role"], m["status"]) for m in items] == [
        (body["user_message_id"], "user", "done"),
        (body["assistant_message_id"], "assistant", "queued"),
    ]
    with app.extensions["queuechat"].db.session() as db:
        reply = db.get_one(Message, body["assistant_message_id"])
        assert reply.sampling == {"temperature": 0.2, "max_tokens": 7}
    # a second message while the reply is open is refused, not interleaved
    again = client.post(
        f"/api/sessions/{chat_id}/messages", json={"content": "more"}, headers=auth_headers
    )
    assert again.status_code == 409
    # no worker consumes this test's queue: cancelling the queued reply finishes it here
    cancel = client.post(
        f"/api/messages/{body['assistant_message_id']}/cancel", headers=auth_headers
    )
    assert cancel.status_code == 202
    assert cancel.json == {"message_id": body["assistant_message_id"], "status": "cancelled"}
    shown = client.get(f"/api/messages/{body['assistant_message_id']}", headers=auth_headers).json
    assert shown["status"] == "cancelled"
    streams: TokenStreams = app.extensions["queuechat"].streams
    assert [e.type for e in streams.read(body["assistant_message_id"])] == ["cancelled"]
    assert (
        client.post(
            f"/api/messages/{body['user_message_id']}/cancel", headers=auth_headers
        ).status_code
        == 409
    )


def test_another_users_message_is_404(
    idle_app: Flask, auth_headers: dict[str, str], other_headers: dict[str, str], chat_id: int
) -> None:
    client = idle_app.test_client()
    body = client.post(
        f"/api/sessions/{chat_id}/messages", json={"content": "Hello"}, headers=auth_headers
    ).json
    for message_id in (body["user_message_id"], body["assistant_message_id"]):
        assert client.get(f"/api/messages/{message_id}", headers=other_headers).status_code == 404
        cancel = client.post(f"/api/messages/{message_id}/cancel", headers=other_headers)
        assert cancel.status_code == 404
    shown = client.get(f"/api/messages/{body['assistant_message_id']}", headers=auth_headers)
    assert shown.json["status"] == "queued"
    client.post(f"/api/messages/{body['assistant_message_id']}/cancel", headers=auth_headers)


def test_regenerate_needs_a_finished_reply(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    client = idle_app.test_client()
    empty = client.post(f"/api/sessions/{chat_id}/regenerate", json={}, headers=auth_headers)
    assert empty.status_code == 409
    body = client.post(
        f"/api/sessions/{chat_id}/messages", json={"content": "Hello"}, headers=auth_headers
    ).json
    busy = client.post(f"/api/sessions/{chat_id}/regenerate", json={}, headers=auth_headers)
    assert busy.status_code == 409
    client.post(f"/api/messages/{body['assistant_message_id']}/cancel", headers=auth_headers)
    bad = client.post(
        f"/api/sessions/{chat_id}/regenerate", json={"top_p": 3}, headers=auth_headers
    )
    assert bad.status_code == 422
