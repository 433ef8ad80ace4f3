"""Unbound extensions and the per-app services (database, Redis, streams, job queue)."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app, g
from flask_jwt_extended import JWTManager
from flask_sock import Sock
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.jobs import JobQueue
from app.streams import TokenStreams

jwt = JWTManager()
sock = Sock()


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: redis.Redis
    streams: TokenStreams
    jobs: JobQueue


def build_services(settings: Settings) -> Services:
    client = redis.Redis.from_url(settings.redis_url)
    return Services(
        settings=settings,
        db=Database(settings.sqlalchemy_url),
        redis=client,
        streams=TokenStreams(
            client, final_ttl_s=settings.stream_ttl_s, live_ttl_s=settings.stream_live_ttl_s
        ),
        jobs=JobQueue(settings),
    )


def services() -> Services:
    found: Services = current_app.extensions["queuechat"]
    return found


def get_db() -> Session:
    """The request's database session; closed (and rolled back if uncommitted) at teardown."""
    if "db_session" not in g:
        g.db_session = services().db.sessions()
    session: Session = g.db_session
    return session


def close_db(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
