"""This inference worker's presence: which models it serves, how many chat places are free, and
that it is alive (a key that lapses unless renewed). The web reads it to route a chat's next
reply to the worker holding the chat (app/services/routing.py); the reaper sends again what was
routed to a worker whose presence lapsed."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import redis

from app.jobs import GENERATE_BATCH_ITEM, GENERATE_COMPLETION, GENERATE_REPLY
from app.redis_keys import WORKERS_SET, held_key, holder_key, routed_key, worker_key

logger = logging.getLogger(__name__)
HOLDER_TTL_S = 3600  # a chat idle longer has likely left the cache anyway


class Presence:
    def __init__(
        self,
        client: redis.Redis,
        worker_id: str,
        ttl_s: float,
        models: list[str],
        places: int,
        free: Callable[[], int],
    ) -> None:
        self.client = client
        self.worker_id = worker_id
        self.ttl_ms = int(ttl_s * 1000)
        self.models = models
        self.places = places
        self.free = free
        self.stopped = threading.Event()

    def beat(self, leaving: int = 0) -> None:
        """``leaving``: jobs about to give their place back (counted free already)."""
        free = min(self.places, self.free() + leaving)
        value = {"models": self.models, "places": self.places, "free": free}
        pipe = self.client.pipeline(transaction=False)
        pipe.set(worker_key(self.worker_id), json.dumps(value), px=self.ttl_ms)
        pipe.sadd(WORKERS_SET, self.worker_id)
        pipe.execute()

    def run(self) -> None:
        """Renews the presence three times per lifetime until stopped."""
        while True:
            try:
                self.beat()
            except redis.RedisError:
                logger.warning("could not renew this worker's presence", exc_info=True)
            if self.stopped.wait(self.ttl_ms / 3000):
                return

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True, name="presence").start()

    def leave(self) -> None:
        """A clean shutdown: the reaper sends what was routed here to the shared queue."""
        self.stopped.set()
        try:
            self.client.delete(worker_key(self.worker_id))
        except redis.RedisError:
            logger.warning("could not withdraw this worker's presence", exc_info=True)


current: list[Presence] = []  # this process's, once it serves (set by workers.inference.tasks)


def hold_chat(client: redis.Redis, worker_id: str, session_id: int) -> None:
    """This worker keeps the chat's tokens: its next turn is routed here while it lives, and
    the presence says the place this reply leaves is free before anyone sees the reply end."""
    client.set(holder_key(session_id), worker_id, ex=HOLDER_TTL_S)
    for presence in current:
        presence.beat(leaving=1)


def refresh() -> None:
    """A place changed hands: the web sees it now rather than at the next heartbeat."""
    for presence in current:
        try:
            presence.beat()
        except redis.RedisError:
            logger.warning("could not renew this worker's presence", exc_info=True)


HELD_TASKS = frozenset({GENERATE_REPLY, GENERATE_BATCH_ITEM, GENERATE_COMPLETION})


def held_text(task_name: str, job_id: int) -> str:
    """One entry of a worker's held set (app.redis_keys.held_key)."""
    return f"{task_name}:{job_id}"


def held_job(entry: str) -> tuple[str, int]:
    """The (task, job id) of a held entry."""
    task, _, job_id = entry.rpartition(":")
    return task, int(job_id)


def held_entry(task_name: str | None, args: object) -> str | None:
    if task_name not in HELD_TASKS or not isinstance(args, list | tuple) or not args:
        return None
    return held_text(task_name, int(args[0]))


def note_held(client: redis.Redis, worker_id: str, task_name: str | None, args: object) -> None:
    """A task of a job reached this worker (it may wait here for a thread): if the worker
    dies before it starts, the reaper sends it again (see app.redis_keys.held_key)."""
    entry = held_entry(task_name, args)
    if entry is not None:
        pipe = client.pipeline(transaction=False)
        pipe.sadd(held_key(worker_id), entry)
        pipe.sadd(WORKERS_SET, worker_id)  # swept when its presence lapses, even if never set
        pipe.execute()


def note_ended(client: redis.Redis, worker_id: str, task_name: str | None, args: object) -> None:
    """The task ended. Not at its start: between the start and its job's lease a worker that
    dies would leave the job in neither list."""
    entry = held_entry(task_name, args)
    if entry is not None:
        client.srem(held_key(worker_id), entry)


def took_routed(client: redis.Redis, worker_id: str, message_id: int) -> None:
    """The reply routed here (if it was) is in a worker's hands now."""
    client.srem(routed_key(worker_id), message_id)
