"""A message that cannot fit the model's context is refused before it is queued, in tokens,
with how much to cut; nothing is stored. Real model vocabulary (the web reads it, no weights)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from app.models import Message

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


def stored(app: Flask) -> int:
    with app.extensions["queuechat"].db.session() as db:
        return db.scalar(select(func.count()).select_from(Message)) or 0


def test_a_message_that_cannot_fit_is_refused_with_what_to_cut(
    idle_app: Flask, auth_headers: dict[str, str]
) -> None:
    client = idle_app.test_client()
    chat = client.post("/api/sessions", json={"title": "long"}, headers=auth_headers).json["id"]
    path = f"/api/sessions/{chat}/messages"
    content = (SENTENCE * 200)[: idle_app.extensions["queuechat"].settings.max_message_chars]
    before = stored(idle_app)
    refused = client.post(path, json={"content": content, "max_tokens": 512}, headers=auth_headers)
    assert refused.status_code == 422, refused.json
    error = refused.json["error"]
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "content"
    detail = error["details"][0]
    assert detail["field"] == "content"
    assert detail["tokens"] > detail["room"] > 0
    assert detail["cut_tokens"] == detail["tokens"] - detail["room"]
    assert f"cut about {detail['cut_tokens']} tokens" in error["message"]
    assert stored(idle_app) == before  # nothing stored, no reply to fail in the worker

    # cutting what it says (and a sentence more for the estimate) is taken
    shorter = content[: len(content) - detail["cut_characters"] - len(SENTENCE)]
    taken = client.post(path, json={"content": shorter, "max_tokens": 512}, headers=auth_headers)
    assert taken.status_code == 202, taken.json
    # a message that fitted with 512 tokens of reply does not with room for 2,048
    other = client.post("/api/sessions", json={"title": "short"}, headers=auth_headers).json["id"]
    again = client.post(
        f"/api/sessions/{other}/messages",
        json={"content": "Hello", "max_tokens": 2048},
        headers=auth_headers,
    )
    assert again.status_code == 422, again.json
    assert again.json["error"]["code"] == "context_length_exceeded"
    assert "a reply of up to 2048 tokens fill" in again.json["error"]["message"]
    assert stored(idle_app) == before + 2


def test_the_limits_a_message_meets_are_told_to_signed_in_users(
    app: Flask, auth_headers: dict[str, str]
) -> None:
    client = app.test_client()
    assert client.get("/api/limits").status_code == 401
    limits = client.get("/api/limits", headers=auth_headers).json
    settings = app.extensions["queuechat"].settings
    assert limits == {
        "max_message_chars": settings.max_message_chars,
        "context_tokens": settings.n_ctx,
        "default_max_tokens": settings.default_max_tokens,
        "max_tokens_limit": settings.max_tokens_limit,
    }
