from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.models import Message


def test_create_list_rename_delete(client: FlaskClient, auth_headers: dict[str, str]) -> None:
    ids = []
    for title in ("first", "second", "third"):
        response = client.post("/api/sessions", json={"title": title}, headers=auth_headers)
        assert response.status_code == 201
        ids.append(response.json["id"])
    page = client.get("/api/sessions?limit=2", headers=auth_headers).json
    assert page["total"] == 3
    assert [s["title"] for s in page["items"]] == ["third", "second"]
    rest = client.get("/api/sessions?limit=2&offset=2", headers=auth_headers).json
    assert [s["title"] for s in rest["items"]] == ["first"]
    renamed = client.patch(
        f"/api/sessions/{ids[0]}", json={"title": " renamed "}, headers=auth_headers
    )
    assert renamed.status_code == 200
    assert renamed.json["title"] == "renamed"
    newest = client.get("/api/sessions", headers=auth_headers).json["items"][0]
    assert newest["id"] == ids[0], "a renamed session moves to the top"
    assert client.delete(f"/api/sessions/{ids[1]}", headers=auth_headers).status_code == 204
    assert client.get(f"/api/sessions/{ids[1]}", headers=auth_headers).status_code == 404
    assert client.get("/api/sessions", headers=auth_headers).json["total"] == 2


def test_default_title(client: FlaskClient, auth_headers: dict[str, str]) -> None:
    response = client.post("/api/sessions", json={}, headers=auth_headers)
    assert response.json["title"] == "New chat"


def test_bad_session_input(client: FlaskClient, auth_headers: dict[str, str], chat_id: int) -> None:
    cases = [
        ("post", "/api/sessions", {"title": ""}, 422),
        ("post", "/api/sessions", {"title": "x" * 201}, 422),
        ("post", "/api/sessions", {"title": 5}, 422),
        ("post", "/api/sessions", {"owner_id": 1}, 422),
        ("post", "/api/sessions", ["not", "an", "object"], 422),
        ("patch", f"/api/sessions/{chat_id}", {}, 422),
        ("get", "/api/sessions?limit=0", None, 422),
        ("get", "/api/sessions?limit=abc", None, 422),
        ("get", "/api/sessions?offset=-1", None, 422),
    ]
    for method, url, body, status in cases:
        response = getattr(client, method)(url, json=body, headers=auth_headers)
        assert response.status_code == status, (method, url, body, response.json)
        assert set(response.json["error"]) >= {"code", "message"}
    title = client.get(f"/api/sessions/{chat_id}", headers=auth_headers).json["title"]
    assert title == "test chat"
    assert client.get("/api/sessions", headers=auth_headers).json["total"] == 1


def test_malformed_json_and_wrong_content_type(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/sessions",
        data="{not json",
        headers={**auth_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    response = client.post(
        "/api/sessions",
        data="title=x",
        headers={**auth_headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert client.get("/api/sessions", headers=auth_headers).json["total"] == 0


def test_oversized_body_is_413(client: FlaskClient, auth_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/sessions",
        data="x" * 2_000_000,
        headers={**auth_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


def test_another_users_session_is_404_everywhere(
    app: Flask,
    client: FlaskClient,
    auth_headers: dict[str, str],
    other_headers: dict[str, str],
    chat_id: int,
) -> None:
    probes = [
        ("get", f"/api/sessions/{chat_id}", None),
        ("patch", f"/api/sessions/{chat_id}", {"title": "mine now"}),
        ("delete", f"/api/sessions/{chat_id}", None),
        ("get", f"/api/sessions/{chat_id}/messages", None),
        ("post", f"/api/sessions/{chat_id}/messages", {"content": "hi"}),
        ("post", f"/api/sessions/{chat_id}/regenerate", {}),
    ]
    for method, url, body in probes:
        response = getattr(client, method)(url, json=body, headers=other_headers)
        assert response.status_code == 404, (method, url)
        assert response.json["error"]["code"] == "not_found"
    missing = client.get("/api/sessions/999999", headers=other_headers)
    assert missing.json == client.get(f"/api/sessions/{chat_id}", headers=other_headers).json
    assert client.get(f"/api/sessions/{chat_id}", headers=auth_headers).json["title"] == "test chat"
    assert client.get("/api/sessions", headers=other_headers).json["total"] == 0
    with app.extensions["queuechat"].db.session() as db:
        assert (
            db.scalar(
                select(func.count()).select_from(Message).where(Message.session_id == chat_id)
            )
            == 0
        )


def test_unknown_route_and_method_are_json(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    assert client.get("/api/nothing-here").json["error"]["code"] == "not_found"
    response = client.put("/api/sessions", headers=auth_headers)
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_deleting_a_chat_cancels_only_open_replies_and_drops_their_keys(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], chat_id: int
) -> None:
    streams = app.extensions["queuechat"].streams
    with app.extensions["queuechat"].db.session() as db:
        done = Message(session_id=chat_id, role="assistant", status="done", content="old")
        open_reply = Message(session_id=chat_id, role="assistant", status="generating")
        db.add_all([done, open_reply])
        db.flush()
        done_id, open_id = done.id, open_reply.id
    streams.append(done_id, "done", status="done")
    streams.append_tokens(open_id, ["partial"])
    assert client.delete(f"/api/sessions/{chat_id}", headers=auth_headers).status_code == 204
    assert not streams.exists(done_id) and not streams.exists(open_id)
    assert not streams.cancel_requested(done_id)  # a finished reply is not "cancelled"
    assert streams.cancel_requested(open_id)  # a worker still generating it stops
