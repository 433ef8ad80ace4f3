"""The open sockets of a web process: caps per account and per address, and sockets that follow
the account (a logout, a deactivation, a role change, an expired or revoked token ends them)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from typing import Any

import redis
from sqlalchemy import select

from app.db import Database
from app.enums import Role
from app.models import RevokedToken, User
from app.redis_keys import ACCOUNT_CHANNEL, DOCUMENT_CHANNEL, db_channel
from app.ws.connection import Connection, SocketUser
from app.ws.seats import Seats, account_key, address_key

logger = logging.getLogger(__name__)
NOTICE_POLL_S = 1.0
REASONS = {
    "logged_out": "this login was signed out",
    "deactivated": "this account was deactivated",
    "role_changed": "this account's role changed; sign in again",
    "token_revoked": "this login was revoked",
    "token_expired": "the access token expired; authenticate again with a fresh one",
    "account_gone": "this account no longer exists",
}


class SocketRegistry:
    def __init__(self, max_per_user: int, max_per_address: int, seats: Seats | None = None) -> None:
        """``seats``: the caps across every web process (app/ws/seats.py); the process's own
        counts cap it too, and alone without them."""
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.seats = seats
        self.connections: dict[int, Connection] = {}
        self.per_address: Counter[str] = Counter()
        self.lock = threading.Lock()

    def admit(self, connection: Connection) -> bool:
        """Counts an opened socket against its address; False past the cap (not counted)."""
        with self.lock:
            if self.per_address[connection.address] >= self.max_per_address:
                return False
        key = address_key(connection.address)
        if self.seats and not self.seats.take(key, connection.id, self.max_per_address):
            return False
        with self.lock:
            self.per_address[connection.address] += 1
            self.connections[connection.id] = connection
        return True

    def sign_in(self, connection: Connection, user: SocketUser) -> bool:
        """Binds the socket to its account; False past the account's cap."""
        with self.lock:
            open_for_user = sum(
                1 for c in self.connections.values() if c.user and c.user.user_id == user.user_id
            )
            if open_for_user >= self.max_per_user:
                return False
        key = account_key(user.user_id)
        if self.seats and not self.seats.take(key, connection.id, self.max_per_user):
            return False
        connection.user = user
        return True

    def forget(self, connection: Connection) -> None:
        with self.lock:
            if self.connections.pop(connection.id, None) is None:
                return
            self.per_address[connection.address] -= 1
            if self.per_address[connection.address] <= 0:
                del self.per_address[connection.address]
        if self.seats:
            self.seats.release(seats_of(connection))

    def renew_seats(self) -> None:
        """Every open socket's seats, renewed (the periodic pass calls this)."""
        if self.seats:
            with self.lock:
                connections = list(self.connections.values())
            self.seats.renew([seat for c in connections for seat in seats_of(c)])

    def signed_in(self) -> list[Connection]:
        with self.lock:
            return [c for c in self.connections.values() if c.user is not None]

    def count(self) -> int:
        with self.lock:
            return len(self.connections)

    def end_for(self, user_id: int, reason: str, token_ids: list[str] | None = None) -> None:
        for connection in self.signed_in():
            user = connection.user
            if user is None or user.user_id != user_id:
                continue
            if token_ids is None or user.token_ids & set(token_ids):
                end(connection, reason)

    def broadcast_document(self, frame: str) -> None:
        for connection in self.signed_in():
            if connection.wants_documents:
                connection.push(frame)

    def end_expired(self) -> None:
        now = time.time()
        for connection in self.signed_in():
            if connection.user is not None and connection.user.expires_at <= now:
                end(connection, "token_expired")

    def recheck(self, db: Database) -> None:
        """The backstop for a missed notice: every account and login of the open sockets,
        checked in two queries."""
        connections = self.signed_in()
        if not connections:
            return
        user_ids = {c.user.user_id for c in connections if c.user}
        token_ids = {jti for c in connections if c.user for jti in c.user.token_ids}
        with db.session() as session:
            accounts = {
                row.id: (row.active, row.role)
                for row in session.execute(
                    select(User.id, User.active, User.role).where(User.id.in_(user_ids))
                )
            }
            revoked = set(
                session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(token_ids)))
            )
        for connection in connections:
            user = connection.user
            if user is None:
                continue
            account = accounts.get(user.user_id)
            if account is None:
                end(connection, "account_gone")
            elif not account[0]:
                end(connection, "deactivated")
            elif Role(account[1]) != user.role:
                end(connection, "role_changed")
            elif user.token_ids & revoked:
                end(connection, "token_revoked")


def seats_of(connection: Connection) -> list[tuple[str, int]]:
    found = [(address_key(connection.address), connection.id)]
    if connection.user is not None:
        found.append((account_key(connection.user.user_id), connection.id))
    return found


def end(connection: Connection, reason: str) -> None:
    connection.end(reason, REASONS[reason])


class NoticeListener:
    """One pub/sub connection per web process: account notices and document progress."""

    def __init__(self, client: redis.Redis, registry: SocketRegistry) -> None:
        self.client = client
        self.registry = registry
        self.stopped = threading.Event()
        self.channels = {
            name: db_channel(client, name) for name in (ACCOUNT_CHANNEL, DOCUMENT_CHANNEL)
        }

    def run(self) -> None:
        while not self.stopped.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(*self.channels.values())
                while not self.stopped.is_set():
                    message = pubsub.get_message(timeout=NOTICE_POLL_S)
                    if message is not None and message["type"] == "message":
                        self.handle(_text(message["channel"]), _text(message["data"]))
            except redis.RedisError as exc:
                logger.warning("notice listener: %s; resubscribing", exc)
                self.stopped.wait(1)
            except Exception:
                logger.exception("notice listener failed; resubscribing")
                self.stopped.wait(1)
            finally:
                pubsub.close()

    def handle(self, channel: str, data: str) -> None:
        if channel == self.channels[DOCUMENT_CHANNEL]:
            self.registry.broadcast_document(data)
            return
        notice: dict[str, Any] = json.loads(data)
        reason = str(notice.get("reason"))
        if reason in REASONS:
            self.registry.end_for(int(notice["user_id"]), reason, notice.get("token_ids"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
