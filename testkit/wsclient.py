"""A small test client for the /ws protocol over a real socket."""

from __future__ import annotations

import json
from typing import Any

import websocket

FINAL = {"done", "error", "cancelled", "message"}


class ChatSocket:
    def __init__(self, url: str, token: str | None = None, **options: Any) -> None:
        self.ws = websocket.create_connection(url, timeout=60, **options)
        self.skip_queued = True
        if token is not None:
            self.send({"type": "auth", "token": token})
            ready = self.recv()
            assert ready["type"] == "ready", ready

    def send(self, payload: dict[str, Any]) -> None:
        self.ws.send(json.dumps(payload))

    def recv(self) -> dict[str, Any]:
        """The next frame; queue-position updates are skipped unless ``skip_queued`` is off."""
        while True:
            data: dict[str, Any] = json.loads(self.ws.recv())
            if data["type"] != "queued" or not self.skip_queued:
                return data

    def subscribe(self, message_id: int, last_event_id: str | None = None) -> None:
        body: dict[str, Any] = {"type": "subscribe", "message_id": message_id}
        if last_event_id is not None:
            body["last_event_id"] = last_event_id
        self.send(body)

    def until_final(self, limit: int = 5000) -> list[dict[str, Any]]:
        events = []
        for _ in range(limit):
            event = self.recv()
            events.append(event)
            if event["type"] in FINAL or event["type"] == "problem":
                return events
        raise AssertionError("no final event")

    def take(self, count: int, of_type: str = "token") -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while len([e for e in events if e["type"] == of_type]) < count:
            event = self.recv()
            events.append(event)
            assert event["type"] not in FINAL, events
        return events

    def close(self) -> None:
        self.ws.close()


def text_of(events: list[dict[str, Any]]) -> str:
    """The reply text a client shows: tokens after the last reset."""
    text = ""
    for event in events:
        if event["type"] == "reset":
            text = ""
        elif event["type"] == "token":
            text += event["text"]
    return text


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
