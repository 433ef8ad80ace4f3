"""Feedback on replies: a user rates their own finished replies (and only those); admins filter
it by rating, template, model and date, and export it as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.enums import MessageRole, MessageStatus
from app.models import Message
from app.workspace_models import Feedback


def chat_with_reply(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    *,
    model: str,
    template_id: int | None = None,
    status: MessageStatus = MessageStatus.DONE,
    reply: str = "Paris.",
) -> tuple[int, int]:
    """A chat (with this template) holding a question and a reply written by ``model``."""
    body = {"title": "rated", **({"template_id": template_id} if template_id else {})}
    chat = client.post("/api/sessions", json=body, headers=headers).json["id"]
    with app.extensions["queuechat"].db.session() as db:
        asked = Message(session_id=chat, role=MessageRole.USER, content="Capital of France?")
        row = Message(session_id=chat, parent=asked, role=MessageRole.ASSISTANT, status=status,
                      content=reply, model_name=model)  # fmt: skip
        db.add(row)
        db.flush()
        return chat, row.id


def test_rate_change_and_withdraw_a_reply(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    _, reply = chat_with_reply(app, client, auth_headers, model="m1")
    body = {"rating": "up", "comment": " spot on "}
    rated = client.put(f"/api/messages/{reply}/feedback", json=body, headers=auth_headers)
    assert rated.status_code == 200, rated.json
    assert (rated.json["rating"], rated.json["comment"]) == ("up", "spot on")
    client.put(f"/api/messages/{reply}/feedback", json={"rating": "down"}, headers=auth_headers)
    shown = client.get(f"/api/messages/{reply}", headers=auth_headers).json["feedback"]
    assert (shown["rating"], shown["comment"]) == ("down", None)
    withdrawn = client.delete(f"/api/messages/{reply}/feedback", headers=auth_headers)
    assert withdrawn.status_code == 204
    assert client.get(f"/api/messages/{reply}", headers=auth_headers).json["feedback"] is None
    again = client.delete(f"/api/messages/{reply}/feedback", headers=auth_headers)
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"


def test_only_the_owners_finished_replies_can_be_rated(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    chat, reply = chat_with_reply(app, client, auth_headers, model="m1")
    question = reply - 1
    cases = [
        (other_headers, reply, {"rating": "up"}, 404),  # someone else's reply
        (auth_headers, question, {"rating": "up"}, 404),  # not a reply
        (auth_headers, reply, {"rating": "meh"}, 422),
        (auth_headers, reply, {"rating": "up", "comment": "x" * 2001}, 422),
        (auth_headers, reply, {"rating": "up", "extra": 1}, 422),
    ]
    for headers, message, body, status in cases:
        answer = client.put(f"/api/messages/{message}/feedback", json=body, headers=headers)
        assert answer.status_code == status, (body, answer.json)
        assert set(answer.json["error"]) >= {"code", "message"}
    _, open_reply = chat_with_reply(app, client, auth_headers, model="m1",
                                    status=MessageStatus.GENERATING)  # fmt: skip
    busy = client.put(f"/api/messages/{open_reply}/feedback", json={"rating": "up"},
                      headers=auth_headers)  # fmt: skip
    assert busy.status_code == 409 and busy.json["error"]["code"] == "conflict"
    assert client.get(f"/api/messages/{reply}", headers=auth_headers).json["feedback"] is None
    # the chat goes, its feedback with it
    client.put(f"/api/messages/{reply}/feedback", json={"rating": "up"}, headers=auth_headers)
    assert client.delete(f"/api/sessions/{chat}", headers=auth_headers).status_code == 204
    with app.extensions["queuechat"].db.session() as db:
        assert db.query(Feedback).filter_by(message_id=reply).count() == 0


def test_admins_filter_by_rating_template_model_and_date(
    app: Flask,
    client: FlaskClient,
    auth_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    name = f"tpl-{uuid.uuid4().hex[:6]}"
    template = client.post("/api/templates", json={"name": name, "system_prompt": "Be brief."},
                           headers=admin_headers).json["id"]  # fmt: skip
    model_a, model_b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    ratings = [(model_a, template, "up"), (model_a, None, "down"), (model_b, template, "down")]
    for model, template_id, rating in ratings:
        _, reply = chat_with_reply(app, client, auth_headers, model=model, template_id=template_id)
        client.put(f"/api/messages/{reply}/feedback", json={"rating": rating, "comment": model},
                   headers=auth_headers)  # fmt: skip

    def listed(**query: str | int) -> dict:  # type: ignore[type-arg]
        answer = client.get("/api/admin/feedback", query_string=query, headers=admin_headers)
        assert answer.status_code == 200, answer.json
        return answer.json  # type: ignore[no-any-return]

    by_model = listed(model=model_a)
    assert sorted(r["rating"] for r in by_model["items"]) == ["down", "up"]
    assert (by_model["up"], by_model["down"]) == (1, 1) and model_b in by_model["models"]
    assert [r["model_name"] for r in listed(model=model_b, rating="down")["items"]] == [model_b]
    assert listed(model=model_b, rating="up")["items"] == []
    with_template = listed(template_id=template)["items"]
    assert {(r["model_name"], r["template_name"]) for r in with_template} == {
        (model_a, name), (model_b, name)}  # fmt: skip
    row = by_model["items"][0]
    assert row["reply"] == "Paris." and row["question"] == "Capital of France?"
    assert row["username"] == auth_headers["X-Username"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert listed(model=model_a, since=tomorrow)["items"] == []
    assert len(listed(model=model_a, until=tomorrow)["items"]) == 2
    bad = client.get("/api/admin/feedback", query_string={"since": "yesterday"},
                     headers=admin_headers)  # fmt: skip
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_input"
    assert client.get("/api/admin/feedback", headers=auth_headers).status_code == 403


def test_csv_export_keeps_the_filters_and_defuses_formulas(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    model = f"csv-{uuid.uuid4().hex[:6]}"
    _, reply = chat_with_reply(app, client, auth_headers, model=model, reply="=HYPERLINK(1)")
    client.put(f"/api/messages/{reply}/feedback",
               json={"rating": "down", "comment": "=cmd|' /C calc'!A0"},
               headers=auth_headers)  # fmt: skip
    answer = client.get("/api/admin/feedback/export", query_string={"model": model},
                        headers=admin_headers)  # fmt: skip
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 1
    first = rows[0]
    assert (first["rating"], first["model"], first["message_id"]) == ("down", model, str(reply))
    assert rows[0]["comment"] == "'=cmd|' /C calc'!A0" and rows[0]["reply"] == "'=HYPERLINK(1)"
    assert client.get("/api/admin/feedback/export", headers=auth_headers).status_code == 403
