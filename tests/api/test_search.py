"""Full-text search over one's own messages (SQLite FTS5, PostgreSQL full text), and pinned
chats listed first."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.enums import MessageRole, MessageStatus
from app.models import Message
from app.services.search import SNIPPET_CHARS


def chat_with(app: Flask, client: FlaskClient, headers: dict[str, str], title: str,
              *texts: str) -> tuple[int, list[int]]:  # fmt: skip
    """A chat holding the texts as alternating questions and replies; its id and theirs."""
    chat_id = int(client.post("/api/sessions", json={"title": title}, headers=headers).json["id"])
    with app.extensions["queuechat"].db.session() as db:
        rows: list[Message] = []
        for n, text in enumerate(texts):
            role = MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT
            rows.append(Message(session_id=chat_id, content=text, status=MessageStatus.DONE,
                                parent=rows[-1] if rows else None, role=role))  # fmt: skip
        db.add_all(rows)
        db.flush()
        ids = [row.id for row in rows]
    return chat_id, ids


def search(client: FlaskClient, headers: dict[str, str], q: str) -> list[dict[str, object]]:
    response = client.get("/api/search", query_string={"q": q}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]  # type: ignore[no-any-return]


def marked(hit: dict[str, object]) -> list[str]:
    snippet = str(hit["snippet"])
    return [snippet[h["start"] : h["end"]] for h in hit["highlights"]]  # type: ignore[attr-defined]


def test_words_are_found_as_prefixes_in_ones_own_messages_only(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    travel, (question, answer) = chat_with(
        app, client, auth_headers, "Travel", "What is the meal allowance abroad?",
        "The allowance is 45 euros a day\nfor meals abroad.",
    )  # fmt: skip
    other_chat, (other_question,) = chat_with(
        app, client, auth_headers, "Kitchen", "Which meals does the canteen serve?"
    )
    chat_with(app, client, other_headers, "Theirs", "My meal allowance secret")

    hits = search(client, auth_headers, "allow meal")  # every word, each as a prefix
    assert {h["message_id"] for h in hits} == {question, answer}
    by_id = {h["message_id"]: h for h in hits}
    assert by_id[answer]["session_id"] == travel and by_id[answer]["session_title"] == "Travel"
    assert by_id[answer]["role"] == "assistant"
    assert by_id[answer]["snippet"] == "The allowance is 45 euros a day for meals abroad."
    assert marked(by_id[answer]) == ["allowance", "meals"]

    assert {h["message_id"] for h in search(client, auth_headers, "MEAL")} == {
        question, answer, other_question,
    }  # fmt: skip
    assert {h["message_id"] for h in search(client, auth_headers, "meals")} == {
        answer, other_question,
    }  # fmt: skip
    assert search(client, auth_headers, "secret") == []  # another user's message
    assert [h["message_id"] for h in search(client, other_headers, "canteen")] == []
    assert search(client, auth_headers, "allowance canteen") == []  # all words must match
    assert other_chat != travel


def test_search_follows_edits_and_deletions(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    chat_id, (first, second) = chat_with(
        app, client, auth_headers, "Notes", "remember the quokka", "noted: quokka"
    )
    with app.extensions["queuechat"].db.session() as db:
        db.execute(update(Message).where(Message.id == second).values(content="noted: wombat"))
    assert [h["message_id"] for h in search(client, auth_headers, "quokka")] == [first]
    assert [h["message_id"] for h in search(client, auth_headers, "wombat")] == [second]

    assert client.delete(f"/api/messages/{first}", headers=auth_headers).status_code == 204
    assert search(client, auth_headers, "quokka") == []
    assert client.delete(f"/api/sessions/{chat_id}", headers=auth_headers).status_code == 204
    assert search(client, auth_headers, "wombat") == []


def test_a_long_message_gives_a_snippet_around_the_match(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    long_text = "filler " * 200 + "the platypus lays eggs " + "more " * 200
    _, (message,) = chat_with(app, client, auth_headers, "Long", long_text)
    (hit,) = search(client, auth_headers, "platypus")
    assert hit["message_id"] == message
    snippet = str(hit["snippet"])
    assert snippet.startswith("…filler ") and snippet.endswith("…")
    assert len(snippet) == SNIPPET_CHARS + 2
    assert marked(hit) == ["platypus"]


def test_query_syntax_is_text_and_bad_queries_are_refused(
    app: Flask, client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    _, (message,) = chat_with(app, client, auth_headers, "Syntax", 'say "near" or not')
    for q in ('near" OR *', "NEAR(near or)", "near:* | !not", "near') --", "say:near", "^near"):
        assert [h["message_id"] for h in search(client, auth_headers, q)] == [message], q
    assert search(client, auth_headers, "?!* --") == []  # no word: nothing to find
    for q, why in (("", "empty"), ("x" * 201, "too long")):
        response = client.get("/api/search", query_string={"q": q}, headers=auth_headers)
        assert response.status_code == 422, why
        assert response.json["error"]["code"] == "invalid_input"
        assert response.json["error"]["details"][0]["field"] == "q"
    assert client.get("/api/search?q=near&limit=51", headers=auth_headers).status_code == 422
    assert client.get("/api/search?q=near").status_code == 401


def test_pinned_chats_come_first_and_keep_their_activity(
    client: FlaskClient, auth_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    ids = [
        int(client.post("/api/sessions", json={"title": t}, headers=auth_headers).json["id"])
        for t in ("oldest", "middle", "newest")
    ]

    def listed() -> list[str]:
        return [s["title"] for s in client.get("/api/sessions", headers=auth_headers).json["items"]]

    before = client.get(f"/api/sessions/{ids[0]}", headers=auth_headers).json
    pinned = client.patch(f"/api/sessions/{ids[0]}", json={"pinned": True}, headers=auth_headers)
    assert pinned.status_code == 200 and pinned.json["pinned_at"] is not None
    assert pinned.json["updated_at"] == before["updated_at"], "pinning is not activity"
    again = client.patch(f"/api/sessions/{ids[0]}", json={"pinned": True}, headers=auth_headers)
    assert again.json["pinned_at"] == pinned.json["pinned_at"]
    client.patch(f"/api/sessions/{ids[1]}", json={"pinned": True}, headers=auth_headers)
    assert listed() == ["middle", "oldest", "newest"]  # the last pinned first

    unpinned = client.patch(f"/api/sessions/{ids[1]}", json={"pinned": False}, headers=auth_headers)
    assert unpinned.json["pinned_at"] is None
    assert listed() == ["oldest", "newest", "middle"]
    theirs = client.patch(f"/api/sessions/{ids[2]}", json={"pinned": True}, headers=other_headers)
    assert theirs.status_code == 404
    refused = client.patch(f"/api/sessions/{ids[2]}", json={"pinned": "yes"}, headers=auth_headers)
    assert refused.status_code == 422
