"""A client that follows one reply over /ws in a thread, as the web UI does: it timestamps every
event and, when the socket drops, connects again and resumes from the last event id it saw."""

from __future__ import annotations

import threading
import time
from typing import Any

import websocket

from testkit.wsclient import FINAL, ChatSocket, text_of


class ReplyWatcher(threading.Thread):
    def __init__(
        self, ws_url: str, token: str, message_id: int, *, resume: bool, timeout_s: float = 90
    ) -> None:
        """``resume``: reconnect after a dropped socket (else the watch ends there)."""
        super().__init__(daemon=True, name=f"watch-{message_id}")
        self.ws_url = ws_url
        self.token = token
        self.message_id = message_id
        self.resume = resume
        self.deadline = time.monotonic() + timeout_s
        self.events: list[tuple[float, dict[str, Any]]] = []  # (monotonic time, event)
        self.connections = 0
        self.drops: list[str] = []
        self.start()

    def run(self) -> None:
        last_id: str | None = None
        while time.monotonic() < self.deadline:
            try:
                sock = ChatSocket(self.ws_url, self.token)
            except (OSError, websocket.WebSocketException, AssertionError) as exc:
                self.drops.append(f"connect: {exc!r}")
                time.sleep(0.2)  # the web process is starting again
                continue
            self.connections += 1
            sock.ws.settimeout(1)
            try:
                sock.subscribe(self.message_id, last_id)
                while time.monotonic() < self.deadline:
                    try:
                        event = sock.recv()
                    except websocket.WebSocketTimeoutException:
                        continue
                    self.events.append((time.monotonic(), event))
                    last_id = event.get("id", last_id)
                    if event["type"] in FINAL or event["type"] == "problem":
                        return
            except (OSError, websocket.WebSocketException, ValueError) as exc:
                self.drops.append(f"socket: {exc!r}")  # ValueError: a close frame, not JSON
                if not self.resume:
                    return
            finally:
                sock.close()

    @property
    def types(self) -> list[str]:
        return [event["type"] for _, event in self.events]

    @property
    def ids(self) -> list[str]:
        return [event["id"] for _, event in self.events if "id" in event]

    @property
    def text(self) -> str:
        return text_of([event for _, event in self.events])

    @property
    def final(self) -> tuple[float, dict[str, Any]] | None:
        """The final event and when it came."""
        for at, event in self.events:
            if event["type"] in FINAL:
                return at, event
        return None

    def tokens(self) -> int:
        return sum(1 for _, event in self.events if event["type"] == "token")

    def wait_for_tokens(self, count: int, timeout_s: float = 60) -> bool:
        """True once ``count`` tokens came; False when the reply ended (or time ran out) first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.tokens() >= count:
                return True
            if not self.is_alive():
                return False
            time.sleep(0.002)
        return False
