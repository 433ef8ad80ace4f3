"""Per-process worker resources (database, Redis streams), created once after fork."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app.config import Settings, get_settings
from app.db import Database
from app.metrics import prepare_metrics_dir
from app.resources import connect_redis
from app.streams import TokenStreams


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    streams: TokenStreams


def build_context(settings: Settings) -> WorkerContext:
    prepare_metrics_dir(settings.metrics_dir)
    client = connect_redis(settings.redis_url)
    streams = TokenStreams.for_settings(client, settings)
    return WorkerContext(settings=settings, db=Database(settings.sqlalchemy_url), streams=streams)


@lru_cache(maxsize=1)
def get_context() -> WorkerContext:
    return build_context(get_settings())
