"""Tasks a worker fetched from the broker and never acknowledged: it died holding them, before it
noted them (the instant between kombu's fetch and Celery's task_received) or while it ran them
(the lease brought the job back, workers/leases.py), or its acknowledgement was lost with a
Redis restart. kombu keeps such a message in its ``unacked`` hash and gives it back only after
the visibility timeout (an hour by default). The reaper looks at the ones older than two leases
that are no live worker's (every live worker notes what it received and has not ended:
app.redis_keys.held_key): a message whose job's row is still queued is dropped from kombu's
records and its job sent again; one whose job ended (its row final, or deleted) is dropped from
them, as its acknowledgement would have: delivered again it would only be found done."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from app.redis_keys import WORKERS_SET, held_key, worker_key
from app.services.routing import as_text
from workers.inference.presence import HELD_TASKS, held_text

logger = logging.getLogger(__name__)
UNACKED = "unacked"  # kombu's Redis transport: delivery tag -> [message, exchange, routing key]
UNACKED_INDEX = "unacked_index"  # delivery tag -> when it was fetched
ORPHAN_LEASES = 2  # a message no live worker holds is taken over once this many leases old
Send = Callable[[str, int], None]
# the jobs among those given whose rows are in a state: still queued, or ended
Queued = Callable[[list[tuple[str, int]]], set[tuple[str, int]]]
Ended = Queued


def message_job(raw: bytes | str, tasks: frozenset[str] = HELD_TASKS) -> tuple[str, int] | None:
    """The (task, job id) of an unacked message, when it is one of ``tasks`` (by default the
    inference jobs')."""
    try:
        return task_of(json.loads(raw)[0], tasks)  # [message, exchange, routing key]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def task_of(message: Any, tasks: frozenset[str] = HELD_TASKS) -> tuple[str, int] | None:
    """The (task, job id) of a kombu message (its JSON form), when it is one of ``tasks`` (by
    default the inference jobs')."""
    try:
        task = message["headers"]["task"]
        if task not in tasks:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        return str(task), int(json.loads(body)[0][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def live_held(client: redis.Redis) -> set[str]:
    """What every live inference worker noted as received and not ended."""
    found: set[str] = set()
    for member in client.smembers(WORKERS_SET):
        worker_id = as_text(member)
        if client.exists(worker_key(worker_id)):
            found |= {as_text(entry) for entry in client.smembers(held_key(worker_id))}
    return found


def take_over_orphans(
    client: redis.Redis, older_than_s: float, queued: Queued, send: Send, ended: Ended
) -> list[int]:
    """Sends again the jobs of unacked messages no live worker holds whose rows are still
    queued, and acknowledges those whose jobs ended; returns the ids of the jobs sent again.
    The message of a job still running stays: its lease is what brings that job back."""
    stale: list[bytes] = client.zrangebyscore(  # type: ignore[assignment]
        UNACKED_INDEX, 0, time.time() - older_than_s
    )
    if not stale:
        return []
    held = live_held(client)
    jobs: dict[str, tuple[str, int]] = {}
    for tag in stale:
        raw: bytes | None = client.hget(UNACKED, tag)  # type: ignore[assignment]
        job = message_job(raw) if raw is not None else None
        if job is not None and held_text(*job) not in held:
            jobs[as_text(tag)] = job
    if not jobs:
        return []
    waiting = queued(list(jobs.values()))
    done = ended(list(jobs.values()))
    resent = []
    for delivery_tag, (task, job_id) in jobs.items():
        if (task, job_id) in waiting:
            forget_message(client, delivery_tag)
            logger.warning("%s %s was fetched by a worker now gone; sending it again", task, job_id)
            send(task, job_id)
            resent.append(job_id)
        elif (task, job_id) in done:
            forget_message(client, delivery_tag)
            logger.info("%s %s ended unacknowledged; its message is acknowledged", task, job_id)
    return resent


def forget_message(client: redis.Redis, delivery_tag: str) -> None:
    """Drops a message from kombu's records, as its acknowledgement does."""
    pipe = client.pipeline(transaction=False)
    pipe.zrem(UNACKED_INDEX, delivery_tag)
    pipe.hdel(UNACKED, delivery_tag)
    pipe.execute()
