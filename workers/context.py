"""Per-process worker resources (database, Redis streams), created once after fork."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from app.config import Settings, get_settings
from app.content_policy import PolicySource
from app.db import Database
from app.metrics import prepare_metrics_dir
from app.resources import bind_redis_once, connect_redis
from app.streams import TokenStreams


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    streams: TokenStreams
    content_policy: PolicySource
    # this process's name among workers: a restarted worker is a new one (its own queue, its
    # own presence), so nothing routed to the old one waits for it
    worker_id: str = field(default_factory=lambda: new_worker_id())


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def build_context(settings: Settings) -> WorkerContext:
    prepare_metrics_dir(settings.metrics_dir)
    client = connect_redis(settings.redis_url)
    streams = TokenStreams.for_settings(client, settings)
    db = Database(settings.sqlalchemy_url)
    bind_redis_once(db, client)
    return WorkerContext(
        settings=settings,
        db=db,
        streams=streams,
        content_policy=PolicySource(settings.content_policy_path),
    )


@lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    return build_context(get_settings())
