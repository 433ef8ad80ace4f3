"""Sockets follow the account (issue 15), on real gunicorn and Redis with default settings: a
deactivation, a logout and an expired token close the sockets they concern within seconds, with
a problem frame that says why; the user's other logins keep theirs."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import websocket
from flask_jwt_extended import create_access_token

from app import create_app
from app.config import Settings
from app.db import Database
from app.enums import Role
from testkit.processes import WebProcess
from testkit.wsload import discard, is_closed, open_socket
from tests.adversarial import ws_stack
from tests.adversarial.ws_stack import bearer, login, new_user

WITHIN_S = 5  # "within a few seconds"

# the stack's fixtures, used by name
database = ws_stack.database
stack_settings = ws_stack.stack_settings
web = ws_stack.web


def closing_problem(ws: websocket.WebSocket) -> dict[str, str]:
    """The frame the server sends before it closes (pongs and other frames skipped)."""
    ws.settimeout(WITHIN_S)
    while True:
        frame: dict[str, str] = json.loads(ws.recv())
        if frame["type"] == "problem":
            assert is_closed(ws), "the socket stayed open after the problem frame"
            discard(ws)
            return frame


def test_a_deactivated_users_sockets_are_closed(web: WebProcess, database: Database) -> None:
    user_id, username = new_user(database)
    first, second = (open_socket(web.ws_url, login(web, username)["access_token"]) for _ in "ab")
    admin_token = login(web, new_user(database, Role.ADMIN)[1])["access_token"]
    started = time.monotonic()
    response = web.http.patch(
        f"/api/admin/users/{user_id}", json={"active": False}, headers=bearer(admin_token)
    )
    assert response.status_code == 200, response.text
    for ws in (first, second):
        problem = closing_problem(ws)
        assert problem["code"] == "deactivated"
        assert "deactivated" in problem["message"]
    assert time.monotonic() - started < WITHIN_S


def test_logout_closes_the_sockets_of_that_login_only(web: WebProcess, database: Database) -> None:
    _, username = new_user(database)
    leaving, staying = login(web, username), login(web, username)
    leaving_socket = open_socket(web.ws_url, leaving["access_token"])
    staying_socket = open_socket(web.ws_url, staying["access_token"])
    # an access token minted by /refresh belongs to the same login
    refreshed = web.http.post("/api/auth/refresh", headers=bearer(leaving["refresh_token"]))
    refreshed_socket = open_socket(web.ws_url, refreshed.json()["access_token"])
    response = web.http.post("/api/auth/logout", headers=bearer(leaving["access_token"]))
    assert response.status_code == 204
    for ws in (leaving_socket, refreshed_socket):
        problem = closing_problem(ws)
        assert problem["code"] == "logged_out", problem
    staying_socket.send(json.dumps({"type": "ping"}))
    assert json.loads(staying_socket.recv()) == {"type": "pong"}
    discard(staying_socket)


def test_a_socket_closes_when_its_access_token_expires(
    web: WebProcess, database: Database, stack_settings: Settings
) -> None:
    user_id, _ = new_user(database)
    signer = create_app(stack_settings)  # the same secret as the web process
    with signer.app_context():
        token = create_access_token(
            identity=str(user_id),
            expires_delta=timedelta(seconds=3),
            additional_claims={"rjti": uuid.uuid4().hex},
        )
    signer.extensions["queuechat"].db.dispose()
    ws = open_socket(web.ws_url, token)
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv()) == {"type": "pong"}
    problem = closing_problem(ws)
    assert problem["code"] == "token_expired"
    assert "fresh" in problem["message"]
