"""What domain steps need, built once per process: settings, database, Redis, streams, jobs."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from app.config import Settings
from app.db import Database
from app.jobs import JobQueue
from app.streams import TokenStreams


@dataclass
class Resources:
    settings: Settings
    db: Database
    redis: redis.Redis
    streams: TokenStreams
    jobs: JobQueue


def connect_redis(url: str, *, max_connections: int | None = None) -> redis.Redis:
    """A client that rides out a Redis restart: a command whose connection broke reconnects
    and is sent again for about two seconds before it fails (``from_url`` alone never retries).
    ``max_connections``: a bounded pool, where a caller waits for a free connection."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=8)
    if max_connections is None:
        return redis.Redis.from_url(url, retry=retry)
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=30, retry=retry
    )
    return redis.Redis(connection_pool=pool)


def build_resources(settings: Settings) -> Resources:
    # a bounded pool: under gevent thousands of sockets and requests may ask at once, and a
    # caller waits for a free connection rather than opening one more
    client = connect_redis(settings.redis_url, max_connections=settings.redis_pool_size)
    return Resources(
        settings=settings,
        db=Database(settings.sqlalchemy_url),
        redis=client,
        streams=TokenStreams.for_settings(client, settings),
        jobs=JobQueue(settings),
    )
