"""What domain steps need, built once per process: settings, database, Redis, streams, jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from app.config import Settings
from app.content_policy import PolicySource
from app.db import Database
from app.instance import bind_redis
from app.jobs import JobQueue
from app.streams import TokenStreams


@dataclass
class Resources:
    settings: Settings
    db: Database
    redis: redis.Redis
    streams: TokenStreams
    jobs: JobQueue
    content_policy: PolicySource


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


def bind_redis_once(db: Database, client: redis.Redis) -> None:
    """Redis marked as this database's (app/instance.py); a Redis that cannot be reached now is
    checked by the next process to start."""
    try:
        bind_redis(db, client)
    except redis.RedisError as exc:
        logging.getLogger(__name__).warning("Redis not checked against the database: %s", exc)


def build_resources(settings: Settings) -> Resources:
    # a bounded pool: under gevent thousands of sockets and requests may ask at once, and a
    # caller waits for a free connection rather than opening one more
    client = connect_redis(settings.redis_url, max_connections=settings.redis_pool_size)
    db = Database(settings.sqlalchemy_url)
    bind_redis_once(db, client)
    return Resources(
        settings=settings,
        db=db,
        redis=client,
        streams=TokenStreams.for_settings(client, settings),
        jobs=JobQueue(settings),
        content_policy=PolicySource(settings.content_policy_path),
    )
