"""/ws: authenticate with the first frame, then subscribe to reply streams, cancel, ping.

A socket holds no database connection: each command that needs the database opens a short
session and closes it. Its events come from the process's one stream reader (app/ws/relay.py).
"""

from __future__ import annotations

import json
import time
from typing import Annotated
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from simple_websocket import Server

from app.api.tokens import access_claims, token_user
from app.enums import FINAL_STATUSES, Role
from app.errors import ApiError, Forbidden
from app.extensions import resources, sock
from app.logs import bind
from app.schemas.common import RowId
from app.schemas.messages import MessageOut
from app.services.ownership import owned_message
from app.services.replies import cancel_reply
from app.ws.connection import Connection, SocketClosed, SocketUser, TokenBucket
from app.ws.runtime import SocketRuntime, socket_runtime

MAX_FRAME_BYTES = 4096
DEFAULT_PORTS = {"http": 80, "https": 443}
bp = Blueprint("ws", __name__)


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: str
    token: str | None = None
    message_id: RowId | None = None
    last_event_id: Annotated[str, StringConstraints(pattern=r"^\d{1,20}-\d{1,20}$")] | None = None


def origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin; None for anything else."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


@bp.before_request
def check_origin() -> None:
    """Browsers send Origin: its scheme, host and port must be allowed (or this server's own),
    so a page elsewhere cannot open a socket with a user's session."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = resources().settings.ws_allowed_origins or [request.host_url]
    key = origin_key(origin)
    if key is None or key not in {origin_key(entry) for entry in allowed}:
        abort(403, description="origin not allowed")


def read_command(raw: str) -> Command:
    if len(raw) > MAX_FRAME_BYTES:
        raise ValueError("frame too large")
    try:
        data = json.loads(raw)
    except RecursionError as exc:  # nested deeper than the parser goes
        raise ValueError("frame nested too deep") from exc
    return Command.model_validate(data)


@sock.route("/ws", bp=bp)
def chat_socket(ws: Server) -> None:
    runtime = socket_runtime(current_app)
    settings = runtime.resources.settings
    bucket = TokenBucket(settings.ws_commands_per_second, settings.ws_command_burst)
    connection = Connection(ws, request.remote_addr or "unknown", bucket)
    if not runtime.registry.admit(connection):
        try:
            connection.close("too_many_sockets", "too many open sockets from this address")
        except SocketClosed:
            return
    try:
        authenticate(connection, runtime, settings.ws_auth_timeout_s)
        serve(connection, runtime)
    except SocketClosed:
        pass
    finally:
        runtime.hub.forget(connection)
        runtime.registry.forget(connection)


def authenticate(connection: Connection, runtime: SocketRuntime, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    frames: list[str] = []
    while not frames:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            connection.close("unauthorized", f"authenticate within {timeout_s:g} s")
        frames = connection.exchange(remaining)
    user = None
    try:
        command = read_command(frames[0])
    except (ValueError, ValidationError):
        command = None
    claims = access_claims(command.token) if command and command.type == "auth" else None
    if claims is not None:
        with runtime.command_slot(), runtime.resources.db.session() as db:
            found = token_user(db, claims)
            if found is not None:
                token_ids = frozenset(str(claims[k]) for k in ("jti", "rjti") if claims.get(k))
                user = SocketUser(found.id, found.role, token_ids, float(claims["exp"]))
    if user is None:
        connection.close("unauthorized", "send {type: auth, token} with a valid access token")
        return
    if not runtime.registry.sign_in(connection, user):
        connection.close("too_many_sockets", "too many open sockets for this account")
    bind(user_id=user.user_id)  # this socket's log lines name its user
    connection.push({"type": "ready", "user_id": user.user_id})
    for raw in frames[1:]:
        handle_frame(raw, connection, runtime)


def serve(connection: Connection, runtime: SocketRuntime) -> None:
    while True:
        for raw in connection.exchange(None):
            handle_frame(raw, connection, runtime)


def handle_frame(raw: str, connection: Connection, runtime: SocketRuntime) -> None:
    if not connection.bucket.take():
        if not connection.throttled:  # one problem frame per refused burst, not one per frame
            connection.throttled = True
            connection.problem("rate_limited", "too many commands; slow down")
        return
    connection.throttled = False
    try:
        command = read_command(raw)
    except (ValueError, ValidationError):
        connection.problem("bad_command", "commands are JSON objects with a known type")
        return
    try:
        with runtime.command_slot():
            handle(command, connection, runtime)
    except ApiError as exc:
        connection.problem(exc.code, exc.message, command.message_id)


def handle(command: Command, connection: Connection, runtime: SocketRuntime) -> None:
    user = connection.user
    assert user is not None
    if command.type == "ping":
        connection.push({"type": "pong"})
        return
    if command.type == "subscribe_documents":
        if user.role != Role.ADMIN:
            raise Forbidden("administrators only")
        connection.wants_documents = True
        connection.push({"type": "subscribed", "channel": "documents"})
        return
    if command.type not in {"subscribe", "unsubscribe", "cancel"} or command.message_id is None:
        connection.problem(
            "bad_command", "expected subscribe, unsubscribe, cancel, subscribe_documents or ping"
        )
        return
    resources = runtime.resources
    if command.type == "subscribe" and command.message_id not in connection.subscriptions:
        if len(connection.subscriptions) >= resources.settings.ws_max_subscriptions:
            limit = resources.settings.ws_max_subscriptions
            connection.problem(
                "too_many_subscriptions",
                f"at most {limit} subscriptions per socket; unsubscribe from one first",
                command.message_id,
            )
            return
    with resources.db.session() as db:
        message = owned_message(db, user.user_id, command.message_id)
        if command.type == "unsubscribe":
            runtime.hub.unsubscribe(connection, message.id)
            return
        if command.type == "cancel":
            status = cancel_reply(db, resources.streams, message)
            connection.push({"type": "cancel_ack", "message_id": message.id, "status": status})
            return
        ended = message.status in FINAL_STATUSES and not resources.streams.exists(message.id)
        stored = MessageOut.model_validate(message).model_dump(mode="json") if ended else None
    runtime.hub.unsubscribe(connection, message.id)
    if stored is not None:  # its stream expired: the stored reply instead
        connection.push({"type": "message", "message_id": message.id, "message": stored})
        return
    runtime.hub.subscribe(connection, message.id, command.last_event_id)
