"""Document progress events on Redis pub/sub, relayed to admins over the WebSocket."""

from __future__ import annotations

import json
from typing import Any

import redis

from app.redis_keys import DOCUMENT_CHANNEL


def publish_document(client: redis.Redis, document: dict[str, Any]) -> None:
    client.publish(DOCUMENT_CHANNEL, json.dumps({"type": "document", "document": document}))
