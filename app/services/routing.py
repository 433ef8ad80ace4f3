"""Where a chat's next reply goes: to the worker that holds the chat's evaluated tokens when
that worker is alive and has a free place (it then evaluates only the new message), else to the
shared queue, where any worker takes it. Workers announce themselves (workers/inference/
presence.py); a worker that dies with replies routed to it has them sent again by the reaper."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis

from app.redis_keys import WORKERS_SET, holder_key, routed_key, worker_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerPresence:
    worker_id: str
    models: tuple[str, ...]
    places: int
    free: int  # chat places free at its last heartbeat


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_presence(client: redis.Redis, worker_id: str) -> WorkerPresence | None:
    return parse_presence(worker_id, client.get(worker_key(worker_id)))


def parse_presence(worker_id: str, raw: bytes | str | None) -> WorkerPresence | None:
    if raw is None:
        return None
    fields = json.loads(raw)
    return WorkerPresence(
        worker_id, tuple(fields["models"]), int(fields["places"]), int(fields["free"])
    )


def live_workers(client: redis.Redis) -> list[WorkerPresence]:
    """Every inference worker whose presence has not lapsed (two round trips, however many)."""
    ids = sorted(as_text(member) for member in client.smembers(WORKERS_SET))
    if not ids:
        return []
    raws: list[bytes | None] = client.mget([worker_key(worker_id) for worker_id in ids])  # type: ignore[assignment]
    found = [parse_presence(worker_id, raw) for worker_id, raw in zip(ids, raws, strict=True)]
    return [presence for presence in found if presence is not None]


def chat_worker(client: redis.Redis, session_id: int, model: str | None) -> str | None:
    """The live worker with a free place that holds this chat's tokens, if there is one (and
    it serves the model the reply asks for: the chat's model may have changed)."""
    try:
        holder = client.get(holder_key(session_id))
        if holder is None:
            return None
        presence = read_presence(client, as_text(holder))
    except redis.RedisError:
        logger.warning("no routing hint for chat %s (Redis)", session_id, exc_info=True)
        return None
    if presence is None or presence.free <= 0:
        return None
    if model is not None and model not in presence.models:
        return None
    return presence.worker_id


def mark_routed(client: redis.Redis, worker_id: str, message_id: int) -> None:
    """Recorded before the send, so a worker that dies never strands a reply in its queue."""
    client.sadd(routed_key(worker_id), message_id)
