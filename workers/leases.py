"""Leases on running jobs: a worker holds one per job, renewed while it works, so a worker that
dies (kill -9, OOM, a lost machine) is noticed in seconds, not after the broker's visibility
timeout. A taken job is also listed in its kind's running set until it is done; the reaper
(workers/reaper.py) sends again the listed jobs whose lease lapsed."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from app.redis_keys import lease_key, running_key

logger = logging.getLogger(__name__)
# compare-and-set on the holder: a lease another worker took over is never touched
RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)
RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class Lease:
    def __init__(self, client: redis.Redis, kind: str, job_id: int, ttl_s: float) -> None:
        self.client = client
        self.job_id = job_id
        self.running = running_key(kind)
        self.key = lease_key(kind, job_id)
        self.ttl_ms = int(ttl_s * 1000)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopped = threading.Event()
        self.lost = threading.Event()  # another worker may hold the job now: stop, store nothing
        self.keeper: threading.Thread | None = None

    def acquire(self) -> bool:
        """Takes the lease unless a live worker holds it; then renews it until released."""
        if not self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            return False
        self.client.sadd(self.running, self.job_id)  # listed until done: a crash leaves it there
        self.keeper = threading.Thread(target=self._keep, daemon=True, name=f"lease-{self.key}")
        self.keeper.start()
        return True

    def _keep(self) -> None:
        while not self.stopped.wait(self.ttl_ms / 3000):
            try:
                if not self.client.eval(RENEW, 1, self.key, self.holder, self.ttl_ms):
                    logger.warning("lease %s was lost; this attempt stops", self.key)
                    self.lost.set()
                    return
            except redis.RedisError:
                logger.warning("could not renew lease %s", self.key, exc_info=True)

    def release(self) -> None:
        """Stops renewing and gives the lease up (idempotent)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self.keeper is not None:
            self.keeper.join()
            try:
                pipe = self.client.pipeline(transaction=False)
                pipe.srem(self.running, self.job_id)
                pipe.eval(RELEASE, 1, self.key, self.holder)
                pipe.execute()
            except redis.RedisError:
                logger.warning("could not release lease %s; it lapses", self.key, exc_info=True)


@contextmanager
def leased(client: redis.Redis, kind: str, job_id: int, ttl_s: float) -> Iterator[Lease | None]:
    """The lease while the block runs, or None when another live worker holds the job."""
    lease = Lease(client, kind, job_id, ttl_s)
    if not lease.acquire():
        yield None
        return
    try:
        yield lease
    finally:
        lease.release()


def taken_jobs(client: redis.Redis, kind: str) -> list[int]:
    """The jobs of a kind that a worker took and has not finished (alive or not)."""
    return sorted(int(member) for member in client.smembers(running_key(kind)))


def forget(client: redis.Redis, kind: str, job_ids: list[int]) -> None:
    if job_ids:
        client.srem(running_key(kind), *job_ids)


def live_leases(client: redis.Redis, kind: str, job_ids: list[int]) -> set[int]:
    """The jobs among ``job_ids`` that a live worker holds, in one round trip."""
    if not job_ids:
        return set()
    pipe = client.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(lease_key(kind, job_id))
    return {job_id for job_id, live in zip(job_ids, pipe.execute(), strict=True) if live}
