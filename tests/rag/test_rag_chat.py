"""Chat replies that draw on the knowledge base and cite it; templates with few-shot examples."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.config import Settings
from testkit.processes import LiveServer
from testkit.wsclient import ChatSocket, text_of, token_of
from tests.conftest import register_and_login
from tests.rag.helpers import upload, wait_for_status

pytestmark = pytest.mark.usefixtures("ingest_worker", "celery_worker")
FACT = (
    "The Velmora beacon on Tasker island was built in 1893 by the engineer "
    "Odo Brennic and its lamp is violet."
)


def ask(
    client: FlaskClient,
    live_server: LiveServer,
    headers: dict[str, str],
    chat_id: int,
    question: str,
    **extra: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    reply = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": question, "max_tokens": 40, **extra},
        headers=headers,
    )
    assert reply.status_code == 202, reply.json
    message_id = reply.json["assistant_message_id"]
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(message_id)
    events = sock.until_final()
    sock.close()
    stored = client.get(f"/api/messages/{message_id}", headers=headers).json
    return events, stored


def test_question_about_a_document_is_answered_with_a_citation(
    client: FlaskClient, admin_headers: dict[str, str], live_server: LiveServer
) -> None:
    filler = "\n\n".join(
        f"## Note {i}\nThe harbour market sells fish on day {i}." for i in range(6)
    )
    filler += f"\n\n## Reference\n{uuid.uuid4().hex}"  # unique content: never a duplicate
    doc = upload(
        client, admin_headers, ("lighthouses.md", f"# Velmora\n{FACT}\n\n{filler}".encode())
    ).json
    document_id = doc["items"][0]["id"]
    assert (
        wait_for_status(client, admin_headers, document_id, {"ready", "error"})["status"] == "ready"
    )
    user = register_and_login(client)
    chat = client.post("/api/sessions", json={"use_knowledge_base": True}, headers=user).json
    assert chat["use_knowledge_base"] is True
    events, stored = ask(client, live_server, user, chat["id"], "Who built the Velmora beacon?")
    assert events[-1]["type"] == "done"
    assert stored["content"] == text_of(events)
    citations = stored["citations"]
    assert citations, "no citation stored"
    top = citations[0]
    assert top["document_id"] == document_id
    assert top["title"] == "lighthouses"
    assert top["heading"] == "Velmora"
    assert "Odo Brennic" in top["snippet"]
    assert 0 < top["score"] <= 1
    assert events[-1]["citations"] == citations
    # the same question without the knowledge base cites nothing and has a shorter prompt
    _, plain = ask(
        client,
        live_server,
        user,
        chat["id"],
        "Who built the Velmora beacon?",
        use_knowledge_base=False,
    )
    assert plain["citations"] == []
    assert plain["prompt_tokens"] < stored["prompt_tokens"]


def test_citations_respect_the_score_threshold(
    client: FlaskClient, live_server: LiveServer, settings: Settings
) -> None:
    user = register_and_login(client)
    chat = client.post("/api/sessions", json={"use_knowledge_base": True}, headers=user).json
    _, stored = ask(client, live_server, user, chat["id"], "asdf qwerty zxcv?")
    assert all(c["score"] >= settings.retrieval_min_score for c in stored["citations"])


POLICIES = {
    "meals": "# Meals on business trips\nEmployees travelling on business receive a daily meal"
    " allowance of 45 euros. Breakfast included in the hotel price reduces it by 10 euros.",
    "vacation": "# Vacation\nFull-time staff have 28 days of paid vacation per year. Unused"
    " days may be carried over until March 31 of the following year.",
    "printer": "# Printer\nTo replace the toner cartridge, open the front cover, pull the old"
    " cartridge out and insert the new one until it clicks. Paper jams are cleared from tray 2.",
}


def test_only_the_passages_that_answer_are_cited(
    client: FlaskClient, admin_headers: dict[str, str], live_server: LiveServer
) -> None:
    """The vacation policy shares the meal question's topic (work rules) and scored above the
    old threshold; only the meal policy answers it. A question nothing answers cites nothing."""
    ids = {}
    for name, text in POLICIES.items():
        body = f"{text}\n\nReference {uuid.uuid4().hex}".encode()  # never a duplicate
        ids[name] = upload(client, admin_headers, (f"{name}.md", body)).json["items"][0]["id"]
    for document_id in ids.values():
        state = wait_for_status(client, admin_headers, document_id, {"ready", "error"})
        assert state["status"] == "ready", state
    try:
        cited_for_questions(client, live_server, ids)
    finally:  # the knowledge base is every test's: leave it as it was
        for document_id in ids.values():
            client.delete(f"/api/documents/{document_id}", headers=admin_headers)


def cited_for_questions(client: FlaskClient, live_server: LiveServer, ids: dict[str, int]) -> None:
    user = register_and_login(client)
    chat = client.post("/api/sessions", json={"use_knowledge_base": True}, headers=user).json
    _, stored = ask(client, live_server, user, chat["id"], "What is the meal allowance?")
    cited = {c["document_id"] for c in stored["citations"]}
    assert cited == {ids["meals"]}, stored["citations"]
    other = client.post("/api/sessions", json={"use_knowledge_base": True}, headers=user).json
    _, unrelated = ask(client, live_server, user, other["id"], "Tell me a joke about cats.")
    assert not {c["document_id"] for c in unrelated["citations"]} & set(ids.values())


def test_template_with_few_shot_examples_shapes_the_reply(
    client: FlaskClient, admin_headers: dict[str, str], live_server: LiveServer
) -> None:
    template = client.post(
        "/api/templates",
        json={
            "name": "banana-bot",
            "system_prompt": "You answer every message with exactly the word BANANA.",
            "examples": [
                {"user_input": "What is the capital of Spain?", "assistant_output": "BANANA"},
                {"user_input": "How are you today?", "assistant_output": "BANANA"},
                {"user_input": "Tell me a joke.", "assistant_output": "BANANA"},
            ],
        },
        headers=admin_headers,
    )
    assert template.status_code == 201, template.json
    user = register_and_login(client)
    chat = client.post(
        "/api/sessions", json={"template_id": template.json["id"]}, headers=user
    ).json
    _, stored = ask(client, live_server, user, chat["id"], "What colour is the sky?", max_tokens=8)
    assert stored["content"].strip().startswith("BANANA"), stored["content"]
