"""The relay thread on a real Redis: an open reply's first events go out before any database
work (no queue-position lookup competes with the first token)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flask import Flask

from app.ws.relay import FIRST_WAIT_MS, Subscription


def test_an_open_reply_streams_without_a_queue_position_first(app: Flask) -> None:
    services = app.extensions["queuechat"]
    message_id = 900_000_000 + int(time.time() * 1000) % 1_000_000  # no such row: no DB use
    sent: list[dict[str, Any]] = []
    relay = Subscription(
        message_id=message_id,
        last_event_id=None,
        streams=services.streams,
        db=services.db,
        send=lambda frame: sent.append(json.loads(frame) if isinstance(frame, str) else frame),
        open_at_subscribe=True,
    )
    relay.start()

    def worker() -> None:
        time.sleep(FIRST_WAIT_MS / 1000 / 5)
        services.streams.append(message_id, "token", text="Hi")
        services.streams.append(message_id, "done", status="done")

    threading.Thread(target=worker).start()
    relay.join(5)
    assert not relay.is_alive()
    assert [(e["type"], e["message_id"]) for e in sent] == [
        ("token", message_id),
        ("done", message_id),
    ]
    assert sent[0]["text"] == "Hi"
