"""Versions of a chat: an edited question or a regenerated reply keeps the old one, the chat shows
one branch, switching shows another; deleting a pair, exporting and a reply's history follow
the tree. No worker: replies stay queued and are stopped before the next step."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.enums import MessageRole, MessageStatus
from app.models import ChatSession, Message
from workers.inference.chat_job import load_history


class Chat:
    def __init__(self, client: FlaskClient, headers: dict[str, str], chat_id: int) -> None:
        self.client, self.headers, self.id = client, headers, chat_id

    def send(self, text: str) -> tuple[int, int]:
        body = self.post(f"/api/sessions/{self.id}/messages", {"content": text}, 202)
        return self.stopped(body)

    def edit(self, message_id: int, text: str) -> tuple[int, int]:
        return self.stopped(self.post(f"/api/messages/{message_id}/edit", {"content": text}, 202))

    def regenerate(self) -> int:
        return self.stopped(self.post(f"/api/sessions/{self.id}/regenerate", {}, 202))[1]

    def show(self, message_id: int) -> list[dict[str, Any]]:
        return self.post(f"/api/messages/{message_id}/show", None, 200)["items"]  # type: ignore[no-any-return]

    def shown(self) -> list[dict[str, Any]]:
        answer = self.client.get(f"/api/sessions/{self.id}/messages", headers=self.headers)
        assert answer.status_code == 200, answer.json
        return answer.json["items"]  # type: ignore[no-any-return]

    def ids(self) -> list[int]:
        return [m["id"] for m in self.shown()]

    def post(self, path: str, body: dict[str, Any] | None, status: int) -> Any:
        answer = self.client.post(path, json=body, headers=self.headers)
        assert answer.status_code == status, answer.json
        return answer.json

    def stopped(self, queued: dict[str, Any]) -> tuple[int, int]:
        """The question and reply; the reply is stopped (no worker runs here)."""
        reply = queued["assistant_message_id"]
        self.post(f"/api/messages/{reply}/cancel", None, 202)
        return queued["user_message_id"], reply


def test_an_edit_keeps_the_old_question_and_its_answers_as_a_version(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    chat = Chat(idle_app.test_client(), auth_headers, chat_id)
    q1, r1 = chat.send("Name a colour.")
    q2, r2 = chat.edit(q1, "Name a fruit.")
    items = chat.shown()
    assert [(m["id"], m["parent_id"], m["content"]) for m in items] == [
        (q2, None, "Name a fruit."), (r2, q2, ""),
    ]  # fmt: skip
    assert items[0]["versions"] == [q1, q2] and items[1]["versions"] == [r2]

    back = chat.show(q1)  # ‹1/2›: the first version with what followed it
    assert [m["id"] for m in back] == [q1, r1] and back[0]["content"] == "Name a colour."
    q3, r3 = chat.send("And another?")  # goes on from the branch shown
    assert chat.ids() == [q1, r1, q3, r3]
    assert chat.shown()[2]["parent_id"] == r1

    assert [m["id"] for m in chat.show(q2)] == [q2, r2]
    # a version shows its newest continuation
    assert [m["id"] for m in chat.show(q1)] == [q1, r1, q3, r3]


def test_regenerate_keeps_the_previous_reply_as_a_version(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    chat = Chat(idle_app.test_client(), auth_headers, chat_id)
    q1, r1 = chat.send("Name a colour.")
    r2 = chat.regenerate()
    items = chat.shown()
    assert [m["id"] for m in items] == [q1, r2]
    assert items[1]["versions"] == [r1, r2] and items[1]["parent_id"] == q1
    assert [m["id"] for m in chat.show(r1)] == [q1, r1]
    r3 = chat.regenerate()  # regenerates the reply shown: a third version
    assert chat.shown()[1]["versions"] == [r1, r2, r3]


def test_what_cannot_be_edited_or_switched_is_refused_and_changes_nothing(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    client = idle_app.test_client()
    chat = Chat(client, auth_headers, chat_id)
    q1, r1 = chat.send("Name a colour.")
    before = chat.shown()
    refused = client.post(f"/api/messages/{r1}/edit", json={"content": "x"}, headers=auth_headers)
    assert refused.status_code == 409 and "regenerate" in refused.json["error"]["message"]
    empty = client.post(f"/api/messages/{q1}/edit", json={"content": " "}, headers=auth_headers)
    assert empty.status_code == 422
    assert [d["field"] for d in empty.json["error"]["details"]] == ["content"]
    unknown = client.post("/api/messages/999999/edit", json={"content": "x"}, headers=auth_headers)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"

    running = chat.post(f"/api/sessions/{chat_id}/messages", {"content": "Still going"}, 202)
    busy = client.post(f"/api/messages/{q1}/edit", json={"content": "x"}, headers=auth_headers)
    assert busy.status_code == 409
    switch = client.post(f"/api/messages/{q1}/show", headers=auth_headers)
    assert switch.status_code == 409
    chat.stopped(running)
    assert chat.shown()[:2] == before


def test_deleting_a_pair_keeps_what_followed_the_shown_reply(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    client = idle_app.test_client()
    chat = Chat(client, auth_headers, chat_id)
    q1, r1 = chat.send("One")
    q2, r2 = chat.send("Two")
    q3, r3 = chat.send("Three")
    q2b, r2b = chat.edit(q2, "Two, again")  # a version of the middle question
    q4b, r4b = chat.send("Four, on the edited branch")
    chat.show(q2)
    assert chat.ids() == [q1, r1, q2, r2, q3, r3]

    deleted = client.delete(f"/api/messages/{r2}", headers=auth_headers)
    assert deleted.status_code == 204
    items = chat.shown()
    assert [m["id"] for m in items] == [q1, r1, q3, r3]
    assert items[2]["parent_id"] == r1  # what followed moved up to the question's place
    assert items[2]["versions"] == [q3, q2b]  # beside the other version of that turn
    assert client.get(f"/api/messages/{q2}", headers=auth_headers).status_code == 404

    assert [m["id"] for m in chat.show(q2b)] == [q1, r1, q2b, r2b, q4b, r4b]
    assert client.delete(f"/api/messages/{q2b}", headers=auth_headers).status_code == 204
    assert chat.ids() == [q1, r1, q4b, r4b]  # the edited branch's next turn moved up
    assert client.delete(f"/api/messages/{q1}", headers=auth_headers).status_code == 204
    shown = chat.shown()
    assert [m["id"] for m in shown] == [q4b, r4b] and shown[0]["versions"] == [q3, q4b]


def test_export_shows_the_branch_and_history_reads_only_it(
    idle_app: Flask, auth_headers: dict[str, str], chat_id: int
) -> None:
    client = idle_app.test_client()
    chat = Chat(client, auth_headers, chat_id)
    q1, _ = chat.send("My name is Ada.")
    chat.edit(q1, "My name is Grace.")
    q2, r2 = chat.send("What is my name?")
    exported = client.get(f"/api/sessions/{chat_id}/export", headers=auth_headers)
    assert exported.status_code == 200, exported.json
    texts = [m["content"] for m in exported.json["messages"] if m["role"] == "user"]
    assert texts == ["My name is Grace.", "What is my name?"]

    with idle_app.extensions["queuechat"].db.session() as db:
        done = db.get(Message, chat.shown()[1]["id"])
        assert done is not None and done.role == MessageRole.ASSISTANT
        done.status, done.content = MessageStatus.DONE, "Hello Grace."
        db.commit()
        history = load_history(db, chat_id, r2, 1024)
        assert [(t.role, t.content) for t in history] == [
            (MessageRole.USER, "My name is Grace."),
            (MessageRole.ASSISTANT, "Hello Grace."),
            (MessageRole.USER, "What is my name?"),
        ]
        assert db.get(ChatSession, chat_id).leaf_id == r2  # type: ignore[union-attr]
    assert q2 == chat.ids()[2]
