"""One open socket: what the stream reader and the notices hand it goes straight onto the wire
when the socket can take it (one non-blocking send, no switch to the socket's own loop), and into
an outbox when it cannot; the socket's own loop (its handler) writes the outbox out and reads the
client's frames.

Frames are built here (text_frame), once per event, and the same bytes go to every subscriber:
a busy reply watched by many sockets is thousands of frames a second.

The handler waits on the socket's one wake-up event, which both an incoming frame (set by
simple-websocket's reader) and a queued frame set; no thread or greenlet per subscription, and
a slow client blocks only its own handler, never the shared reader.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gevent import monkey
from simple_websocket import ConnectionClosed, Server

from app.enums import Role

OUTBOX_BYTES = 4 << 20  # a client this far behind is cut off (it resumes from its last id)
_ids = itertools.count(1)


def text_frame(text: str) -> bytes:
    """A whole, unfragmented WebSocket text frame from the server (unmasked, uncompressed:
    RFC 6455 section 5.2; RFC 7692 lets a deflate connection send uncompressed messages)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + data


class SocketClosed(Exception):
    """The client left, or the server ended the socket (the reason went out as a problem)."""


@dataclass(frozen=True)
class SocketUser:
    """Who authenticated a socket: no ORM object, so no database connection stays with it."""

    user_id: int
    role: Role
    token_ids: frozenset[str]  # the access token's jti and the refresh token's (its login)
    expires_at: float  # the access token's exp (epoch seconds)


class TokenBucket:
    """Commands per second with a burst; refuses (False) when empty."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class WholeFrames:
    """The socket under simple-websocket, which writes with ``socket.send``: that may write part
    of a frame when the send buffer is full (gevent's sockets do), and the rest would be lost.
    This writes all of it, one writer at a time (the socket's loop, the reader's pongs and the
    stream reader's direct sends)."""

    def __init__(self, sock: Any) -> None:
        self.raw = sock
        self.lock = threading.Lock()  # held while writing: frames never interleave
        self.send_now = _nonblocking_send(sock)

    def send(self, data: bytes) -> int:
        with self.lock:
            self.raw.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def _nonblocking_send(sock: Any) -> Callable[[bytes], int]:
    """One send that writes what the kernel takes now and never waits (BlockingIOError when
    it takes nothing): gevent's socket waits for room unless told timeout=0."""
    if monkey.is_module_patched("socket"):
        return lambda data: int(sock.send(data, 0, timeout=0.0))
    return lambda data: int(sock.send(data, socket.MSG_DONTWAIT))


class Connection:
    def __init__(self, ws: Server, address: str, bucket: TokenBucket) -> None:
        self.id = next(_ids)
        self.wire = WholeFrames(ws.sock)
        ws.sock = self.wire
        self.ws = ws
        self.address = address
        self.bucket = bucket
        self.user: SocketUser | None = None
        self.wants_documents = False
        self.throttled = False  # told it was rate limited, since its last accepted command
        self.subscriptions: set[int] = set()
        self.outbox: deque[bytes] = deque()
        self.outbox_bytes = 0
        self.ending: tuple[str, str] | None = None  # (code, message) once the server ends it
        self.lock = threading.Lock()

    def push(self, payload: dict[str, Any] | str) -> None:
        """Sends a frame to the client (any thread); never blocks."""
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        self.deliver(text_frame(text))

    def deliver(self, data: bytes) -> None:
        """Whole frames already in wire format (the reader builds each event's frame once and
        hands the same bytes to every subscriber): written at once when nothing is queued
        before them and the socket has room, else queued for the socket's loop. Never blocks."""
        if self.ending is not None:
            return
        if not self.wire.lock.acquire(blocking=False):
            self._enqueue(data)  # the loop is writing: after what it writes
            return
        try:
            if self.outbox:
                self._enqueue(data)  # behind: after what is queued
                return
            try:
                sent = self.wire.send_now(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                sent = len(data)  # the socket is gone: its loop finds out and ends
                self.ws.event.set()
            if sent < len(data):  # still holding the writer: the rest goes out first
                with self.lock:
                    self.outbox.appendleft(data[sent:])
                    self.outbox_bytes += len(data) - sent
                self.ws.event.set()
        finally:
            self.wire.lock.release()

    def _enqueue(self, data: bytes) -> None:
        with self.lock:
            if self.ending is not None:
                return
            if self.outbox_bytes + len(data) > OUTBOX_BYTES:
                self.outbox.clear()
                self.outbox_bytes = 0
                self.ending = ("slow_consumer", "the client read too slowly; resume by last id")
            else:
                self.outbox.append(data)
                self.outbox_bytes += len(data)
        self.ws.event.set()

    def problem(self, code: str, message: str, message_id: int | None = None) -> None:
        body: dict[str, Any] = {"type": "problem", "code": code, "message": message}
        if message_id is not None:
            body["message_id"] = message_id
        self.push(body)

    def end(self, code: str, message: str) -> None:
        """Asks the socket's loop to send a problem frame with the reason, then close."""
        with self.lock:
            if self.ending is None:
                self.ending = (code, message)
        self.ws.event.set()

    def exchange(self, timeout: float | None) -> list[str]:
        """Writes what is queued, then waits up to ``timeout`` for frames from the client
        (an empty list when none came in time); SocketClosed once the socket is over."""
        ws = self.ws
        while True:
            ws.event.clear()  # before draining: a push after this sets it again
            self.flush()
            if ws.input_buffer:
                frames = []
                while ws.input_buffer:  # pop one by one: the reader may append meanwhile
                    frame = ws.input_buffer.pop(0)
                    text = (
                        frame if isinstance(frame, str) else bytes(frame).decode("utf-8", "replace")
                    )
                    frames.append(text)
                return frames
            if not ws.connected:
                raise SocketClosed
            if not ws.event.wait(timeout=timeout):
                self.flush()
                return []

    def flush(self) -> None:
        """Writes every queued frame in one system call (a busy reply queues many at once)."""
        with self.wire.lock:
            with self.lock:
                frames, self.outbox = self.outbox, deque()
                self.outbox_bytes = 0
                ending = self.ending
            if frames:
                if not self.ws.connected:
                    raise SocketClosed
                try:
                    self.wire.raw.sendall(b"".join(frames))
                except OSError as exc:
                    raise SocketClosed from exc
        if ending is not None:
            self.close(*ending)

    def close(self, code: str, message: str) -> None:
        """Sends a problem frame saying why, closes with 1008 (policy), and ends the loop."""
        try:
            self._send(json.dumps({"type": "problem", "code": code, "message": message}))
            self.ws.close(reason=1008, message=code)
        except SocketClosed:
            pass
        except ConnectionClosed:
            pass
        raise SocketClosed

    def _send(self, text: str) -> None:
        try:
            self.ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise SocketClosed from exc
