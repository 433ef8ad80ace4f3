"""Pub/sub notices to every web process: document progress (relayed to admins over the
WebSocket) and account changes (logout, deactivation) that close a user's open sockets."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from app.redis_keys import ACCOUNT_CHANNEL, DOCUMENT_CHANNEL, db_channel

logger = logging.getLogger(__name__)


def publish_document(client: redis.Redis, document: dict[str, Any]) -> None:
    client.publish(
        db_channel(client, DOCUMENT_CHANNEL), json.dumps({"type": "document", "document": document})
    )


def publish_account_notice(
    client: redis.Redis, user_id: int, reason: str, token_ids: list[str] | None = None
) -> None:
    """``token_ids``: only the sockets authenticated with these jti/rjti (a logout); None: all
    of the user's sockets (deactivation, a role change)."""
    notice = {"user_id": user_id, "reason": reason, "token_ids": token_ids}
    try:
        client.publish(db_channel(client, ACCOUNT_CHANNEL), json.dumps(notice))
    except redis.RedisError as exc:  # the web processes' periodic re-check catches it instead
        logger.warning("account notice for user %s not sent: %s", user_id, exc)
