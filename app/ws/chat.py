"""/ws: authenticate with the first frame, then subscribe to reply streams, cancel, ping."""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated, Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from simple_websocket import ConnectionClosed, Server

from app.api.tokens import user_for_access_token
from app.enums import OPEN_STATUSES, Role
from app.errors import ApiError, Forbidden
from app.extensions import get_db, resources, sock
from app.models import User
from app.schemas.common import RowId
from app.services.ownership import owned_message
from app.services.replies import cancel_reply
from app.ws.relay import DocumentFeed, Subscription

logger = logging.getLogger(__name__)
MAX_FRAME_BYTES = 4096
bp = Blueprint("ws", __name__)


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: str
    token: str | None = None
    message_id: RowId | None = None
    last_event_id: Annotated[str, StringConstraints(pattern=r"^\d{1,20}-\d{1,20}$")] | None = None


class Connection:
    """One socket: serialized sends, and one relay thread per subscribed message."""

    def __init__(self, ws: Server) -> None:
        self.ws = ws
        self.lock = threading.Lock()
        self.subscriptions: dict[int, Subscription] = {}
        self.document_feed: DocumentFeed | None = None

    def send(self, payload: dict[str, Any] | str) -> None:
        frame = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        with self.lock:
            try:
                self.ws.send(frame)
            except ConnectionClosed as exc:
                raise ConnectionError("socket closed") from exc

    def problem(self, code: str, message: str, message_id: int | None = None) -> None:
        body: dict[str, Any] = {"type": "problem", "code": code, "message": message}
        if message_id is not None:
            body["message_id"] = message_id
        self.send(body)

    def close_all(self) -> None:
        for subscription in self.subscriptions.values():
            subscription.stop()
        if self.document_feed is not None:
            self.document_feed.stop()


@bp.before_request
def check_origin() -> None:
    """Browsers send Origin: it must be allowed (or same-origin) to stop cross-site sockets."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = resources().settings.ws_allowed_origins
    if origin in allowed or (not allowed and urlsplit(origin).netloc == request.host):
        return
    abort(403, description="origin not allowed")


def read_command(ws: Server, timeout: float | None) -> Command | None:
    raw = ws.receive(timeout=timeout)
    if raw is None:
        return None
    if len(raw) > MAX_FRAME_BYTES:
        raise ValueError("frame too large")
    try:
        data = json.loads(raw)
    except RecursionError as exc:  # nested deeper than the parser goes
        raise ValueError("frame nested too deep") from exc
    return Command.model_validate(data)


@sock.route("/ws", bp=bp)
def chat_socket(ws: Server) -> None:
    connection = Connection(ws)
    try:
        user = authenticate(ws, connection)
        if user is not None:
            serve(ws, connection, user)
    except ConnectionClosed:
        pass
    except ConnectionError:
        pass
    finally:
        connection.close_all()


def authenticate(ws: Server, connection: Connection) -> User | None:
    try:
        command = read_command(ws, resources().settings.ws_auth_timeout_s)
    except (ValueError, ValidationError):
        command = None
    user = None
    if command is not None and command.type == "auth" and command.token:
        user = user_for_access_token(get_db(), command.token)
    get_db().rollback()  # release the connection while the socket stays open
    if user is None:
        connection.problem("unauthorized", "send {type: auth, token} with a valid access token")
        ws.close(reason=1008, message="unauthorized")
        return None
    connection.send({"type": "ready", "user_id": user.id})
    return user


def serve(ws: Server, connection: Connection, user: User) -> None:
    while True:
        try:
            command = read_command(ws, None)
        except (ValueError, ValidationError):
            connection.problem("bad_command", "commands are JSON objects with a known type")
            continue
        if command is None:
            continue
        try:
            handle(command, connection, user)
        except ApiError as exc:
            connection.problem(exc.code, exc.message, command.message_id)
        finally:
            get_db().rollback()


def handle(command: Command, connection: Connection, user: User) -> None:
    if command.type == "ping":
        connection.send({"type": "pong"})
        return
    if command.type == "subscribe_documents":
        if user.role != Role.ADMIN:
            raise Forbidden("administrators only")
        if connection.document_feed is None:
            connection.document_feed = DocumentFeed(resources().redis, connection.send)
            connection.document_feed.start()
        connection.send({"type": "subscribed", "channel": "documents"})
        return
    if command.type not in {"subscribe", "unsubscribe", "cancel"} or command.message_id is None:
        connection.problem(
            "bad_command", "expected subscribe, unsubscribe, cancel, subscribe_documents or ping"
        )
        return
    message = owned_message(get_db(), user.id, command.message_id)
    previous = connection.subscriptions.pop(message.id, None)
    if command.type == "cancel":
        if previous is not None:
            connection.subscriptions[message.id] = previous
        status = cancel_reply(get_db(), resources().streams, message)
        connection.send({"type": "cancel_ack", "message_id": message.id, "status": status})
        return
    if previous is not None:
        previous.stop()
    if command.type == "subscribe":
        app_resources = resources()
        subscription = Subscription(
            message_id=message.id,
            last_event_id=command.last_event_id,
            streams=app_resources.streams,
            db=app_resources.db,
            send=connection.send,
            open_at_subscribe=message.status in OPEN_STATUSES,
        )
        connection.subscriptions[message.id] = subscription
        subscription.start()
