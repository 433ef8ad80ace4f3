"""End to end on real components: REST → Celery → llama.cpp → Redis stream → WebSocket."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess
from testkit.wsclient import ChatSocket, text_of, token_of
from tests.conftest import register_and_login

pytestmark = pytest.mark.usefixtures("celery_worker")
LONG_PROMPT = "Write a long story about a brave cat who sails across the sea."


def post(
    client: FlaskClient, headers: dict[str, str], chat_id: int, content: str, **params: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/sessions/{chat_id}/messages", json={"content": content, **params}, headers=headers
    )
    assert response.status_code == 202, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def stored(client: FlaskClient, headers: dict[str, str], message_id: int) -> dict[str, Any]:
    response = client.get(f"/api/messages/{message_id}", headers=headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def test_full_flow_streams_tokens_and_stores_the_same_text(
    client: FlaskClient, live_server: LiveServer
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={"title": "geo"}, headers=headers).json
    question = "Name the capital city of France."
    queued = post(client, headers, chat["id"], question, max_tokens=40, temperature=0.0)
    assert queued["status"] == "queued"
    assert queued["user_message_id"] < queued["assistant_message_id"]
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(queued["assistant_message_id"])
    events = sock.until_final()
    sock.close()
    assert events[-1]["type"] == "done", events[-1]
    tokens = [e for e in events if e["type"] == "token"]
    assert len(tokens) >= 2
    assert all(e["message_id"] == queued["assistant_message_id"] for e in events)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    message = stored(client, headers, queued["assistant_message_id"])
    assert message["status"] == "done"
    assert message["content"] == text_of(events)
    assert "Paris" in message["content"]
    assert message["completion_tokens"] == events[-1]["completion_tokens"] >= len(tokens)
    assert message["prompt_tokens"] > 10
    assert message["time_to_first_token_ms"] > 0
    assert message["model_name"] == "SmolLM2-135M-Instruct.Q4_1"
    history = client.get(f"/api/sessions/{chat['id']}/messages", headers=headers).json["items"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == question


def test_follow_up_uses_history(client: FlaskClient, live_server: LiveServer) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    first = post(client, headers, chat["id"], "My name is Zorblax. Say hello to me.", max_tokens=30)
    sock.subscribe(first["assistant_message_id"])
    assert sock.until_final()[-1]["type"] == "done"
    second = post(client, headers, chat["id"], "What is my name?", max_tokens=30)
    sock.subscribe(second["assistant_message_id"])
    assert sock.until_final()[-1]["type"] == "done"
    sock.close()
    one = stored(client, headers, first["assistant_message_id"])
    two = stored(client, headers, second["assistant_message_id"])
    # the second prompt holds the first exchange: its prompt is longer than both turns together
    assert two["prompt_tokens"] > one["prompt_tokens"] + one["completion_tokens"]


def test_resume_after_disconnect_has_no_gap_and_no_duplicate(
    client: FlaskClient, live_server: LiveServer
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    queued = post(client, headers, chat["id"], LONG_PROMPT, max_tokens=120)
    message_id = queued["assistant_message_id"]
    first = ChatSocket(live_server.ws_url, token_of(headers))
    first.subscribe(message_id)
    seen = first.take(5)
    first.close()  # dropped mid-reply
    time.sleep(0.3)  # the reply goes on meanwhile
    second = ChatSocket(live_server.ws_url, token_of(headers))
    second.subscribe(message_id, last_event_id=seen[-1]["id"])
    rest = second.until_final()
    second.close()
    assert rest[-1]["type"] == "done"
    ids = [e["id"] for e in seen + rest]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    message = stored(client, headers, message_id)
    assert text_of(seen + rest) == message["content"]
    # a late client that starts from scratch gets the identical full sequence
    late = ChatSocket(live_server.ws_url, token_of(headers))
    late.subscribe(message_id)
    replay = late.until_final()
    late.close()
    assert [e["id"] for e in replay] == ids


def test_cancel_over_rest_stops_the_worker_and_keeps_the_partial_reply(
    client: FlaskClient, live_server: LiveServer
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    queued = post(client, headers, chat["id"], LONG_PROMPT, max_tokens=400)
    message_id = queued["assistant_message_id"]
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(message_id)
    before = sock.take(3)
    cancel = client.post(f"/api/messages/{message_id}/cancel", headers=headers)
    assert cancel.status_code == 202
    after = sock.until_final()
    sock.close()
    assert after[-1]["type"] == "cancelled"
    message = stored(client, headers, message_id)
    assert message["status"] == "cancelled"
    assert message["content"] == text_of(before + after)
    assert 3 <= message["completion_tokens"] < 400
    # the worker is free again: the next reply in the same chat completes
    follow = post(client, headers, chat["id"], "Say OK.", max_tokens=5)
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(follow["assistant_message_id"])
    assert sock.until_final()[-1]["type"] == "done"
    sock.close()
    again = client.post(f"/api/messages/{message_id}/cancel", headers=headers)
    assert again.status_code == 409


def test_cancel_over_the_socket(client: FlaskClient, live_server: LiveServer) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    queued = post(client, headers, chat["id"], LONG_PROMPT, max_tokens=400)
    message_id = queued["assistant_message_id"]
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(message_id)
    sock.take(2)
    sock.send({"type": "cancel", "message_id": message_id})
    events = sock.until_final()
    sock.close()
    assert any(e["type"] == "cancel_ack" for e in events)
    assert events[-1]["type"] == "cancelled"
    assert stored(client, headers, message_id)["status"] == "cancelled"


def test_regenerate_shows_a_new_version_and_keeps_the_old(
    client: FlaskClient, live_server: LiveServer
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    first = post(client, headers, chat["id"], "Name a color.", max_tokens=10)
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(first["assistant_message_id"])
    assert sock.until_final()[-1]["type"] == "done"
    again = client.post(
        f"/api/sessions/{chat['id']}/regenerate",
        json={"temperature": 1.0, "seed": 7},
        headers=headers,
    )
    assert again.status_code == 202
    new_id = again.json["assistant_message_id"]
    assert new_id != first["assistant_message_id"]
    sock.subscribe(new_id)
    events = sock.until_final()
    sock.close()
    assert events[-1]["type"] == "done"
    items = client.get(f"/api/sessions/{chat['id']}/messages", headers=headers).json["items"]
    assert [(m["role"], m["id"]) for m in items] == [
        ("user", first["user_message_id"]),
        ("assistant", new_id),
    ]
    assert items[1]["content"] == text_of(events)
    assert items[1]["versions"] == [first["assistant_message_id"], new_id]
    old = client.get(f"/api/messages/{first['assistant_message_id']}", headers=headers)
    assert old.status_code == 200 and old.json["status"] == "done" and old.json["content"]


def test_expired_stream_serves_the_stored_message(
    client: FlaskClient, live_server: LiveServer, redis: Any
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    queued = post(client, headers, chat["id"], "Say hi.", max_tokens=8)
    message_id = queued["assistant_message_id"]
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(message_id)
    assert sock.until_final()[-1]["type"] == "done"
    redis.delete(f"qc:stream:{message_id}")  # as if its TTL ran out
    sock.subscribe(message_id, last_event_id="1-0")
    events = sock.until_final()
    sock.close()
    assert [e["type"] for e in events] == ["message"]
    assert events[0]["message"]["content"] == stored(client, headers, message_id)["content"]
    assert events[0]["message"]["status"] == "done"


def test_stream_ttl_is_set_after_the_final_event(
    client: FlaskClient, live_server: LiveServer, redis: Any, settings: Settings
) -> None:
    headers = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=headers).json
    queued = post(client, headers, chat["id"], "Say hi.", max_tokens=5)
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(queued["assistant_message_id"])
    sock.until_final()
    sock.close()
    ttl = redis.ttl(f"qc:stream:{queued['assistant_message_id']}")
    assert 0 < ttl <= settings.stream_ttl_s


def test_another_users_stream_is_not_found(client: FlaskClient, live_server: LiveServer) -> None:
    owner = register_and_login(client)
    intruder = register_and_login(client)
    chat = client.post("/api/sessions", json={}, headers=owner).json
    queued = post(client, owner, chat["id"], "Say hi.", max_tokens=5)
    sock = ChatSocket(live_server.ws_url, token_of(intruder))
    for command in ("subscribe", "cancel"):
        sock.send({"type": command, "message_id": queued["assistant_message_id"]})
        reply = sock.recv()
        assert reply == {
            "type": "problem",
            "code": "not_found",
            "message": "message not found",
            "message_id": queued["assistant_message_id"],
        }
    sock.close()


def test_socket_requires_auth_in_first_frame(live_server: LiveServer, client: FlaskClient) -> None:
    headers = register_and_login(client)
    sock = ChatSocket(live_server.ws_url)
    sock.send({"type": "subscribe", "message_id": 1})
    assert sock.recv()["code"] == "unauthorized"
    sock.close()
    revoked = register_and_login(client)
    client.post("/api/auth/logout", headers={"Authorization": revoked["Authorization"]})
    sock = ChatSocket(live_server.ws_url)
    sock.send({"type": "auth", "token": token_of(revoked)})
    assert sock.recv()["code"] == "unauthorized"
    sock.close()
    sock = ChatSocket(live_server.ws_url)
    sock.send({"type": "auth", "token": headers["X-Refresh"]})  # not an access token
    assert sock.recv()["code"] == "unauthorized"
    sock.close()


def test_socket_origin_allowlist(live_server: LiveServer) -> None:
    import websocket

    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ChatSocket(live_server.ws_url, origin="http://evil.example")
    assert info.value.status_code == 403
    same = ChatSocket(live_server.ws_url, origin=live_server.url)
    same.close()


def test_ping_and_bad_commands(client: FlaskClient, live_server: LiveServer) -> None:
    headers = register_and_login(client)
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.send({"type": "ping"})
    assert sock.recv() == {"type": "pong"}
    sock.ws.send("not json")
    assert sock.recv()["code"] == "bad_command"
    sock.send({"type": "subscribe", "message_id": "1"})
    assert sock.recv()["code"] == "bad_command"
    sock.send({"type": "subscribe", "message_id": 1, "last_event_id": "garbage"})
    assert sock.recv()["code"] == "bad_command"
    sock.send({"type": "launch", "message_id": 1})
    assert sock.recv()["code"] == "bad_command"
    sock.close()


def test_worker_fixture_is_real(celery_worker: WorkerProcess, app: Flask) -> None:
    assert celery_worker.proc.poll() is None
    assert "inference" in celery_worker.log_path.read_text()


def test_a_queued_reply_hears_its_queue_position(idle_app: Flask) -> None:
    server = LiveServer(idle_app)
    client = idle_app.test_client()
    try:
        first_user, second_user = register_and_login(client), register_and_login(client)
        replies = []
        for headers in (first_user, second_user):
            chat = client.post("/api/sessions", json={}, headers=headers).json
            replies.append(post(client, headers, chat["id"], "Hello?"))
        first_id, second_id = (r["assistant_message_id"] for r in replies)
        watcher = ChatSocket(server.ws_url, token_of(first_user))
        watcher.skip_queued = False
        watcher.subscribe(first_id)
        ahead = watcher.recv()
        assert ahead["type"] == "queued" and ahead["message_id"] == first_id
        sock = ChatSocket(server.ws_url, token_of(second_user))
        sock.skip_queued = False
        sock.subscribe(second_id)
        assert sock.recv() == {
            "type": "queued",
            "position": ahead["position"] + 1,
            "message_id": second_id,
        }
        client.post(f"/api/messages/{first_id}/cancel", headers=first_user)
        assert watcher.until_final()[-1]["type"] == "cancelled"
        watcher.close()
        assert sock.recv()["position"] == ahead["position"]  # the reply ahead left the queue
        client.post(
            f"/api/messages/{replies[1]['assistant_message_id']}/cancel", headers=second_user
        )
        assert sock.until_final()[-1]["type"] == "cancelled"
        sock.close()
    finally:
        server.stop()


def test_a_subscribe_with_an_id_past_the_largest_row_id_is_a_problem_frame(
    client: FlaskClient, live_server: LiveServer
) -> None:
    headers = register_and_login(client)
    sock = ChatSocket(live_server.ws_url, token_of(headers))
    sock.subscribe(2**63)
    problem = sock.recv()
    assert (problem["type"], problem["code"]) == ("problem", "bad_command"), problem
    sock.send({"type": "ping"})
    assert sock.recv() == {"type": "pong"}  # the socket is still served
    sock.ws.send("[" * 2000 + "]" * 2000)  # within the 4 KB frame limit, deeper than json parses
    assert sock.recv()["code"] == "bad_command"
    sock.send({"type": "ping"})
    assert sock.recv() == {"type": "pong"}
    sock.close()
