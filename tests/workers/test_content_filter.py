"""Content filtering with the real model and real streams: input refused before it is queued,
output stopped mid-stream and withheld from clients and storage, per-template overrides, and
every decision counted."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.enums import Role
from app.models import Message, User
from testkit.processes import LiveServer, WorkerProcess
from testkit.wsclient import ChatSocket, token_of
from tests.conftest import isolated_settings, register_and_login
from tests.rag.helpers import upload, wait_for_status

POLICY_MESSAGE = "This reply was stopped by the test policy."


def write_policy(path: Path, policy: dict[str, object]) -> None:
    """A new policy, seen by every process at its next check (a newer modification time)."""
    previous = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(json.dumps(policy))
    stamp = max(time.time(), previous + 1)
    os.utime(path, (stamp, stamp))


@pytest.fixture()
def policy_path(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    write_policy(path, {})
    return path


@pytest.fixture()
def filtered(settings: Settings, policy_path: Path) -> Iterator[tuple[Flask, WorkerProcess]]:
    """An app and an inference worker of their own, both reading ``policy_path``."""
    isolated = isolated_settings(settings, 12, content_policy_path=policy_path)
    flask_app = create_app(isolated)
    worker = WorkerProcess(isolated, queues="inference")
    yield flask_app, worker
    worker.stop()
    flask_app.extensions["queuechat"].db.dispose()


def counted(client: FlaskClient, stage: str, decision: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    pattern = (
        rf'^queuechat_content_filter_decisions_total\{{[^}}]*decision="{decision}"'
        rf'[^}}]*stage="{stage}"[^}}]*\}} (\S+)$'
    )
    return sum(float(value) for value in re.findall(pattern, text, re.MULTILINE))


def final_message(client: FlaskClient, headers: dict[str, str], message_id: int) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        message = client.get(f"/api/messages/{message_id}", headers=headers).json
        assert message is not None
        if message["status"] not in ("queued", "generating"):
            return dict(message)
        time.sleep(0.2)
    raise AssertionError(f"message {message_id} did not finish")


def send(client: FlaskClient, headers: dict[str, str], text: str) -> tuple[int, int]:
    chat = client.post("/api/sessions", json={}, headers=headers).json
    assert chat is not None
    sent = client.post(
        f"/api/sessions/{chat['id']}/messages",
        json={"content": text, "max_tokens": 24, "temperature": 0},
        headers=headers,
    )
    assert sent.status_code == 202, sent.json
    return int(chat["id"]), int(sent.json["assistant_message_id"])  # type: ignore[index]


def test_output_is_stopped_mid_stream_and_withheld(
    filtered: tuple[Flask, WorkerProcess], policy_path: Path
) -> None:
    flask_app, _worker = filtered
    client = flask_app.test_client()
    headers = register_and_login(client)
    prompt = "Say hello and introduce yourself."
    # The same prompt at temperature 0 gives the same reply: learn a word from its middle.
    _chat, first_id = send(client, headers, prompt)
    reply = final_message(client, headers, first_id)
    assert reply["status"] == "done"
    words = re.findall(r"\b[A-Za-z]{4,}\b", reply["content"])
    assert len(words) >= 3, reply["content"]
    blocked_word = words[len(words) // 2]
    write_policy(policy_path, {"words": [blocked_word], "message": POLICY_MESSAGE})
    blocked_before = counted(client, "output", "blocked")

    server = LiveServer(flask_app)
    try:
        _chat, message_id = send(client, headers, prompt)
        sock = ChatSocket(server.ws_url, token_of(headers))
        sock.subscribe(message_id)
        events = sock.until_final()
        sock.close()
    finally:
        server.stop()
    types = [event["type"] for event in events]
    final = events[-1]
    assert final["type"] == "error" and final["status"] == "filtered", events
    assert final["error"] == POLICY_MESSAGE
    # the client heard the text up to the blocked word (never the word), then took it back
    sent_text = "".join(e["text"] for e in events if e["type"] == "token")
    assert blocked_word.lower() not in sent_text.lower()
    assert "reset" in types and types.index("reset") > 0
    stored = final_message(client, headers, message_id)
    assert stored["status"] == "filtered" and stored["content"] == ""
    assert stored["error"] == POLICY_MESSAGE
    with flask_app.extensions["queuechat"].db.session() as db:
        assert db.get(Message, message_id).content in ("", None)  # type: ignore[union-attr]
    # a client that replays the stream from the start hears no token of it
    redis = redis_lib.Redis.from_url(flask_app.extensions["queuechat"].settings.redis_url)
    replayed = redis.xrange(flask_app.extensions["queuechat"].streams.stream_key(message_id))
    assert [fields[b"type"] for _id, fields in replayed] == [b"reset", b"error"]
    assert counted(client, "output", "blocked") == blocked_before + 1
    # the decision is in the audit log: whose reply, which rule; never the text
    admin = admin_of(flask_app, client)
    events = client.get("/api/admin/audit?action=content.blocked", headers=admin).json
    mine = [e for e in events["items"] if e["target_id"] == message_id]  # type: ignore[index]
    seen = [(e["actor_name"], e["target_type"], e["details"]["stage"], e["details"]["rule"])
            for e in mine]  # fmt: skip
    assert seen == [(headers["X-Username"], "message", "output", "word list")]
    assert blocked_word.lower() not in json.dumps(mine).lower()


def admin_of(flask_app: Flask, client: FlaskClient) -> dict[str, str]:
    admin = register_and_login(client)
    with flask_app.extensions["queuechat"].db.session() as db:
        user = db.query(User).filter_by(username=admin["X-Username"]).one()
        user.role = Role.ADMIN
    return admin


def test_retrieved_passages_the_policy_blocks_are_left_out_and_audited(
    filtered: tuple[Flask, WorkerProcess], policy_path: Path, settings: Settings
) -> None:
    flask_app, _worker = filtered
    ingest = WorkerProcess(flask_app.extensions["queuechat"].settings, queues="ingest")
    try:
        client = flask_app.test_client()
        admin = admin_of(flask_app, client)
        secret = f"Project {uuid.uuid4().hex[:6]} uses the codename Bluefinch for its vault."
        doc = upload(client, admin, ("vault.md", f"# Vault\n{secret}\n".encode())).json
        document_id = doc["items"][0]["id"]
        assert wait_for_status(client, admin, document_id, {"ready", "error"})["status"] == "ready"
        write_policy(policy_path, {"words": ["Bluefinch"], "apply_to": ["retrieval"]})
        headers = register_and_login(client)
        chat = client.post("/api/sessions", json={"use_knowledge_base": True}, headers=headers)
        sent = client.post(f"/api/sessions/{chat.json['id']}/messages",  # type: ignore[index]
                           json={"content": "What codename does the vault use?", "max_tokens": 8},
                           headers=headers)  # fmt: skip
        assert sent.status_code == 202, sent.json
        reply_id = sent.json["assistant_message_id"]  # type: ignore[index]
        reply = final_message(client, headers, reply_id)
    finally:
        ingest.stop()
    assert reply["status"] == "done" and reply["citations"] == []  # the passage was left out
    assert "Bluefinch" not in reply["content"]
    events = client.get("/api/admin/audit?action=content.blocked", headers=admin).json
    mine = [e for e in events["items"] if e["target_id"] == reply_id]  # type: ignore[index]
    assert [(e["actor_name"], e["details"]["stage"], e["details"]["rule"], e["details"]["chunks"])
            for e in mine] == [(headers["X-Username"], "retrieval", "word list", 1)]  # fmt: skip


def test_input_is_refused_before_it_is_queued_and_templates_override(
    filtered: tuple[Flask, WorkerProcess], policy_path: Path
) -> None:
    flask_app, _worker = filtered
    client = flask_app.test_client()
    headers = register_and_login(client)
    admin = admin_of(flask_app, client)
    name = f"lenient-{uuid.uuid4().hex[:6]}"
    template = client.post(
        "/api/templates", json={"name": name, "system_prompt": "Be brief."}, headers=admin
    )
    assert template.status_code == 201, template.json
    write_policy(
        policy_path,
        {
            "words": ["pineapple"],
            "patterns": [r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"],
            "message": POLICY_MESSAGE,
            "templates": {name: {"words": [], "patterns": []}},
        },
    )
    chat = client.post("/api/sessions", json={}, headers=headers).json
    assert chat is not None
    allowed_before = counted(client, "input", "allowed")
    blocked_before = counted(client, "input", "blocked")
    for text in ("I like PINEAPPLE pizza", "card 1234-5678-9012-3456 please"):
        refused = client.post(
            f"/api/sessions/{chat['id']}/messages", json={"content": text}, headers=headers
        )
        assert refused.status_code == 422, refused.json
        assert refused.json == {"error": {"code": "content_blocked", "message": POLICY_MESSAGE}}
    listed = client.get(f"/api/sessions/{chat['id']}/messages", headers=headers).json
    assert listed is not None and listed["items"] == []  # nothing stored, nothing queued
    # each refusal is in the audit log: who, where, which rule; never the text
    audit = client.get("/api/admin/audit?action=content.blocked", headers=admin).json
    assert audit is not None
    mine = [e for e in audit["items"] if e["actor_name"] == headers["X-Username"]]
    assert [(e["target_type"], e["target_id"], e["details"]["stage"]) for e in mine] == [
        ("chat", chat["id"], "input")
    ] * 2
    assert {e["details"]["rule"] for e in mine} == {"word list", "pattern"}, mine
    assert "PINEAPPLE" not in json.dumps(mine) and "5678" not in json.dumps(mine)
    # whole words only: "pineapples" and "apple" pass
    fine = client.post(
        f"/api/sessions/{chat['id']}/messages",
        json={"content": "apple and pineapples", "max_tokens": 2},
        headers=headers,
    )
    assert fine.status_code == 202
    assert counted(client, "input", "blocked") == blocked_before + 2
    assert counted(client, "input", "allowed") == allowed_before + 1
    # the lenient template's override clears the lists
    lenient = client.post(
        "/api/sessions",
        json={"template_id": template.json["id"]},
        headers=headers,  # type: ignore[index]
    ).json
    assert lenient is not None
    passed = client.post(
        f"/api/sessions/{lenient['id']}/messages",
        json={"content": "I like pineapple", "max_tokens": 2},
        headers=headers,
    )
    assert passed.status_code == 202, passed.json
    # another user's chat is 404, blocked text or not (nothing is told about it)
    other = register_and_login(client)
    probe = client.post(
        f"/api/sessions/{chat['id']}/messages", json={"content": "pineapple"}, headers=other
    )
    assert probe.status_code == 404
