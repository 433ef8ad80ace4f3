"""A chat exported as QueueChat JSON and as Markdown, and chats imported from QueueChat's JSON
and from ChatGPT's export: owned, bounded, stored as text."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.enums import MessageRole, MessageStatus
from app.models import Message
from tests.conftest import register_and_login

CITATION = {"document_id": 1, "title": "Travel policy", "page": 3, "heading": "Meals",
            "chunk_index": 0, "snippet": "45 euros a day", "score": 0.7}  # fmt: skip


def seeded_chat(app: Flask, client: FlaskClient, headers: dict[str, str]) -> int:
    """A chat with one answered question and one reply still queued (not exported)."""
    chat_id = int(client.post("/api/sessions", json={"title": "Meals"}, headers=headers).json["id"])
    with app.extensions["queuechat"].db.session() as db:
        asked = Message(session_id=chat_id, role=MessageRole.USER, content="Meal allowance?")
        answer = Message(session_id=chat_id, parent=asked, role=MessageRole.ASSISTANT,
                         content="45 euros [1].", status=MessageStatus.DONE, model_name="SmolLM2",
                         citations=[CITATION])  # fmt: skip
        again = Message(session_id=chat_id, parent=answer, role=MessageRole.USER,
                        content="And breakfast?")  # fmt: skip
        running = Message(session_id=chat_id, parent=again, role=MessageRole.ASSISTANT,
                          content="", status=MessageStatus.QUEUED)  # fmt: skip
        db.add_all([asked, answer, again, running])
        db.commit()
    return chat_id


def turns(client: FlaskClient, headers: dict[str, str], chat_id: int) -> list[tuple[str, str]]:
    items = client.get(f"/api/sessions/{chat_id}/messages", headers=headers).json["items"]
    return [(m["role"], m["content"]) for m in items]


def test_a_chat_exports_as_json_and_markdown_for_its_owner_only(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    chat_id = seeded_chat(app, client, auth_headers)
    exported = client.get(f"/api/sessions/{chat_id}/export", headers=auth_headers)
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="chat-{chat_id}.json"'
    body = exported.json
    assert body["format"] == "queuechat.chat" and body["version"] == 1 and body["title"] == "Meals"
    assert [(m["role"], m["content"], m["status"]) for m in body["messages"]] == [
        ("user", "Meal allowance?", "done"),
        ("assistant", "45 euros [1].", "done"),
        ("user", "And breakfast?", "done"),
    ]  # the reply still queued is not part of it
    assert body["messages"][1]["citations"] == [CITATION]

    markdown = client.get(f"/api/sessions/{chat_id}/export?format=markdown", headers=auth_headers)
    assert markdown.status_code == 200 and markdown.mimetype == "text/markdown"
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Meals\n")
    assert "### You · " in text and "### Assistant · SmolLM2 · " in text
    assert "45 euros [1].\n\nSources:\n- [1] Travel policy, page 3, Meals" in text

    other = register_and_login(client)
    assert client.get(f"/api/sessions/{chat_id}/export", headers=other).status_code == 404
    bad = client.get(f"/api/sessions/{chat_id}/export?format=pdf", headers=auth_headers)
    assert bad.status_code == 422


def test_an_export_imports_back_as_a_new_chat_of_the_importer(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    chat_id = seeded_chat(app, client, auth_headers)
    exported = client.get(f"/api/sessions/{chat_id}/export", headers=auth_headers).json
    colleague = register_and_login(client)
    made = client.post("/api/sessions/import", json=exported, headers=colleague)
    assert made.status_code == 201, made.json
    [chat] = made.json["items"]
    assert chat["title"] == "Meals" and chat["id"] != chat_id
    assert turns(client, colleague, chat["id"]) == [
        ("user", "Meal allowance?"),
        ("assistant", "45 euros [1]."),
        ("user", "And breakfast?"),
    ]
    assert client.get(f"/api/sessions/{chat['id']}", headers=auth_headers).status_code == 404


def chatgpt_conversation(title: str) -> dict[str, Any]:
    """ChatGPT's shape: a tree of nodes; the shown branch ends at current_node (an edit made
    the first answer a branch no longer shown)."""

    def node(parent: str | None, role: str | None, *parts: Any) -> dict[str, Any]:
        message = None
        if role is not None:
            message = {"author": {"role": role}, "create_time": 1_700_000_000.5,
                       "content": {"content_type": "text", "parts": list(parts)}}  # fmt: skip
        return {"message": message, "parent": parent, "children": []}

    return {
        "title": title,
        "create_time": 1_700_000_000,
        "current_node": "d",
        "mapping": {
            "root": node(None, None),
            "s": node("root", "system", ""),
            "a": node("s", "user", "Write <|im_start|>system as text", {"image": "x"}),
            "b": node("a", "assistant", "old branch"),
            "c": node("a", "assistant", "It is ", "plain text."),
            "d": node("c", "tool", "a tool's output is not a turn"),
        },
        "moderation_results": [],
    }


def test_chatgpt_conversations_import_their_shown_branch_as_text(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    one = client.post("/api/sessions/import", json=chatgpt_conversation("Tokens"),
                      headers=auth_headers)  # fmt: skip
    assert one.status_code == 201, one.json
    [chat] = one.json["items"]
    assert chat["title"] == "Tokens"
    assert turns(client, auth_headers, chat["id"]) == [
        ("user", "Write <|im_start|>system as text"),  # stored as typed: text, not a token
        ("assistant", "It is \nplain text."),
    ]
    listed = [chatgpt_conversation("First"), chatgpt_conversation("  ")]
    many = client.post("/api/sessions/import", json=listed, headers=auth_headers)
    assert [c["title"] for c in many.json["items"]] == ["First", "Imported chat"]


def test_bad_imports_are_refused_and_store_nothing(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    before = client.get("/api/sessions", headers=auth_headers).json["total"]
    looped = chatgpt_conversation("Loop")
    looped["mapping"]["root"]["parent"] = "d"  # a parent chain that loops ends the walk
    cases: list[Any] = [
        {},
        [],
        {"format": "queuechat.chat", "version": 2, "messages": []},
        {"format": "queuechat.chat", "version": 1,
         "messages": [{"role": "system", "content": "x"}]},
        {"format": "queuechat.chat", "version": 1, "messages": [{"role": "user", "content": " "}]},
        [chatgpt_conversation("x")] * 51,
        {"format": "queuechat.chat", "version": 1,
         "messages": [{"role": "user", "content": "x"}] * 1001},
        {"format": "queuechat.chat", "version": 1, "messages": [
            {"role": "user", "content": "x", "created_at": "0001-01-01T00:00:00+05:00"}]},
        "a string",
        {"format": "queuechat.chat", "version": 1, "title": "a\u0000b",
         "messages": [{"role": "user", "content": "x"}]},
        {**chatgpt_conversation("NUL"), "mapping": {"n": {"message": {
            "author": {"role": "user"}, "content": {"parts": ["a\u0000"]}}}}},
    ]  # fmt: skip
    for body in cases:
        response = client.post("/api/sessions/import", json=body, headers=auth_headers)
        assert response.status_code == 422, (str(body)[:80], response.status_code)
        assert response.json["error"]["code"] == "invalid_input"
    assert client.get("/api/sessions", headers=auth_headers).json["total"] == before
    loop = client.post("/api/sessions/import", json=looped, headers=auth_headers)
    assert loop.status_code == 201
    assert client.post("/api/sessions/import", json=chatgpt_conversation("x")).status_code == 401


def test_a_question_and_its_reply_are_deleted_together(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    chat_id = seeded_chat(app, client, auth_headers)
    ids = [m["id"] for m in client.get(f"/api/sessions/{chat_id}/messages",
                                       headers=auth_headers).json["items"]]  # fmt: skip
    other = register_and_login(client)
    assert client.delete(f"/api/messages/{ids[0]}", headers=other).status_code == 404
    running = client.delete(f"/api/messages/{ids[2]}", headers=auth_headers)  # reply queued
    assert running.status_code == 409
    assert "stop it first" in running.json["error"]["message"]
    assert client.delete(f"/api/messages/{ids[1]}", headers=auth_headers).status_code == 204
    assert turns(client, auth_headers, chat_id) == [("user", "And breakfast?"), ("assistant", "")]
    assert client.get(f"/api/messages/{ids[0]}", headers=auth_headers).status_code == 404
