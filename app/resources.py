"""What domain steps need, built once per process: settings, database, Redis, streams, jobs."""

from __future__ import annotations

from dataclasses import dataclass

import redis

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


def build_resources(settings: Settings) -> Resources:
    # a bounded pool: under gevent thousands of sockets and requests may ask at once, and a
    # caller waits for a free connection rather than opening one more
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_pool_size, timeout=30
    )
    client = redis.Redis(connection_pool=pool)
    return Resources(
        settings=settings,
        db=Database(settings.sqlalchemy_url),
        redis=client,
        streams=TokenStreams.for_settings(client, settings),
        jobs=JobQueue(settings),
    )
