"""The WebSocket tier under the abuse of issue 15, on real gunicorn (gevent) and real Redis, with
the default settings: idle sockets cost no database connection, sockets that never authenticate
are closed after 3 s, one socket cannot take the process's threads or Redis clients, and a page
on another origin (or scheme) cannot open one."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis as redis_lib
import websocket

from app.config import Settings
from app.db import Database
from app.streams import TokenStreams
from testkit.processes import WebProcess
from testkit.wsload import (
    connections_to,
    discard,
    first_frames,
    open_socket,
    process_status,
    redis_port,
)
from tests.adversarial import ws_stack
from tests.adversarial.ws_stack import login, new_user, open_replies, timed_get

DEFAULTS = Settings.model_fields
AUTH_TIMEOUT_S = DEFAULTS["ws_auth_timeout_s"].default
PER_USER = DEFAULTS["ws_max_sockets_per_user"].default
SUBSCRIPTIONS = DEFAULTS["ws_max_subscriptions"].default
BURST = DEFAULTS["ws_command_burst"].default

# the stack's fixtures, used by name
database = ws_stack.database
stack_settings = ws_stack.stack_settings
web = ws_stack.web


def test_idle_authenticated_sockets_hold_no_database_connection(
    web: WebProcess, database: Database
) -> None:
    """100 idle sockets (30 of them one user's, past the per-account cap): REST still answers
    at once; the pool (30 connections) would have been exhausted by 30 sockets before."""
    _, hoarder = new_user(database)
    hoarder_token = login(web, hoarder)["access_token"]
    sockets, refused = [], []
    for _ in range(30):
        ws = websocket.create_connection(web.ws_url, timeout=30)
        ws.send(json.dumps({"type": "auth", "token": hoarder_token}))
        frame = json.loads(ws.recv())
        (sockets if frame["type"] == "ready" else refused).append((ws, frame))
    assert len(sockets) == PER_USER
    assert {frame["code"] for _, frame in refused} == {"too_many_sockets"}
    while len(sockets) < 100:
        token = login(web, new_user(database)[1])["access_token"]
        for _ in range(min(PER_USER, 100 - len(sockets))):
            sockets.append((open_socket(web.ws_url, token), {}))
    for _ in range(20):
        elapsed, response = timed_get(web, "/api/sessions", hoarder_token)
        assert response.status_code == 200
        assert elapsed < 1.0, f"GET /api/sessions took {elapsed:.2f} s with 100 idle sockets"
    ws, _ = sockets[0]
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv()) == {"type": "pong"}  # the sockets are served, not just parked
    for ws, _ in sockets + refused:
        discard(ws)


def test_sockets_that_never_authenticate_are_closed_after_3_s(
    web: WebProcess, database: Database
) -> None:
    token = login(web, new_user(database)[1])["access_token"]
    opened_at, sockets = [], []
    for _ in range(500):
        sockets.append(websocket.create_connection(web.ws_url, timeout=30))
        opened_at.append(time.monotonic())
    elapsed, response = timed_get(web, "/api/sessions", token)
    assert response.status_code == 200 and elapsed < 1.0, elapsed
    frames = first_frames(sockets, timeout=AUTH_TIMEOUT_S + 10)
    codes: dict[str, int] = {}
    for opened, (arrived, frame) in zip(opened_at, frames, strict=True):
        assert frame is not None and frame["type"] == "problem", frame
        codes[frame["code"]] = codes.get(frame["code"], 0) + 1
        if frame["code"] == "unauthorized":  # given its 3 s, then closed
            assert AUTH_TIMEOUT_S - 0.1 <= arrived - opened <= AUTH_TIMEOUT_S + 5
        else:  # past the per-address cap: refused at once
            assert frame["code"] == "too_many_sockets"
    assert codes["unauthorized"] >= DEFAULTS["ws_max_sockets_per_ip"].default
    elapsed, response = timed_get(web, "/api/sessions", token)
    assert response.status_code == 200 and elapsed < 1.0, elapsed
    for ws in sockets:
        discard(ws)


def test_a_thousand_subscribes_from_one_socket_are_refused_past_the_cap(
    web: WebProcess, database: Database, stack_settings: Settings
) -> None:
    user_id, username = new_user(database)
    replies = open_replies(database, user_id, SUBSCRIPTIONS + 8)
    ws = open_socket(web.ws_url, login(web, username)["access_token"])
    port = redis_port(stack_settings.redis_url)
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv())["type"] == "pong"  # the process's shared parts are running
    before = process_status(web.proc.pid)["threads"], connections_to(web.proc.pid, port)
    time.sleep(0.5)  # the ping's token is back: the bucket holds its whole burst
    for n in range(1000):
        ws.send(json.dumps({"type": "subscribe", "message_id": replies[n % len(replies)]}))
    time.sleep(BURST / DEFAULTS["ws_commands_per_second"].default + 1)  # the bucket refills
    problems = drain(ws)
    codes = [p["code"] for p in problems]
    assert set(codes) == {"too_many_subscriptions", "rate_limited"}, problems
    refused = [p.get("message_id") for p in problems[: len(replies) - SUBSCRIPTIONS]]
    assert refused == replies[SUBSCRIPTIONS:]  # the burst: every one past the cap, in order
    assert len(problems) < 200  # one rate_limited frame per refused run, not one per frame
    after = process_status(web.proc.pid)["threads"], connections_to(web.proc.pid, port)
    assert after[0] <= before[0] + 2 and after[1] <= before[1] + 2, (before, after)
    streams = TokenStreams.for_settings(redis_lib.Redis.from_url(stack_settings.redis_url),
                                        stack_settings)  # fmt: skip
    for message_id in (replies[0], replies[SUBSCRIPTIONS]):  # subscribed, and refused
        streams.append(message_id, "token", text=f"to {message_id}")
        streams.append(message_id, "done", status="done")
    frames = [json.loads(ws.recv()) for _ in range(2)]
    assert [(f["type"], f["message_id"]) for f in frames] == [
        ("token", replies[0]),
        ("done", replies[0]),
    ]
    assert drain(ws, 1) == []  # nothing from the refused subscription
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv()) == {"type": "pong"}
    discard(ws)


def drain(ws: websocket.WebSocket, wait_s: float = 2) -> list[dict[str, Any]]:
    frames = []
    ws.settimeout(wait_s)
    try:
        while True:
            frames.append(json.loads(ws.recv()))
    except websocket.WebSocketTimeoutException:
        pass
    ws.settimeout(30)
    return frames


@pytest.mark.parametrize(
    "origin",
    ["evil://127.0.0.1:{port}", "https://127.0.0.1:{port}", "http://127.0.0.1:1", "null"],
)
def test_an_origin_of_another_scheme_host_or_port_is_refused(web: WebProcess, origin: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(web.ws_url, origin=origin.format(port=web.port))
    assert info.value.status_code == 403
    discard(websocket.create_connection(web.ws_url, origin=web.url))
