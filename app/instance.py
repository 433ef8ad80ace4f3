"""One Redis database serves one QueueChat database. Redis keys (streams, cancel flags, leases)
and queued tasks are named by row ids, which a database never reuses; but a database started
afresh (a deleted SQLite file, a restored dump) next to a Redis that kept its data would meet
the old keys under the new rows' ids: a new reply could be shown an old stream, or cancelled by
an old flag. Each database holds a random instance id (the ``deployment`` row, written by its
first migration); Redis holds the id of the database its keys belong to. Web and workers check
it when they start: a Redis of another database has QueueChat's keys and queues dropped first."""

from __future__ import annotations

import logging

import redis
from sqlalchemy import String, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, Database
from app.jobs import QUEUES, queue_keys
from app.redis_keys import DEPLOYMENT_KEY

logger = logging.getLogger(__name__)
# what QueueChat keeps in Redis besides its own "qc:" keys: the queues and kombu's redelivery
# records (a task of the old database would run on a new row with its id)
KOMBU_KEYS = ("unacked", "unacked_index", "unacked_mutex")


class Deployment(Base):
    """One row: this database's instance id."""

    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(32), nullable=False)


def database_instance(db: Database) -> str | None:
    try:
        with db.session() as session:
            return session.scalar(select(Deployment.instance).limit(1))
    except SQLAlchemyError:
        return None  # not migrated yet: nothing can have been written under its ids


def bind_redis(db: Database, client: redis.Redis) -> bool:
    """Marks Redis as this database's; True when another database's keys were dropped."""
    instance = database_instance(db)
    if instance is None:
        return False
    if client.set(DEPLOYMENT_KEY, instance, nx=True):
        return False
    found = client.get(DEPLOYMENT_KEY)
    if found is not None and _text(found) == instance:
        return False
    stale = [*client.scan_iter(match="qc:*", count=1000), *KOMBU_KEYS]
    stale += [key for queue in QUEUES for key in queue_keys(queue)]
    for pattern in ("inference@*", "inference.*", "batch.*"):  # workers' and models' queues
        stale += list(client.scan_iter(match=pattern, count=1000))
    logger.warning(
        "Redis held the keys of another database (%s); this one is %s: dropping %d keys",
        _text(found) if found is not None else "?",
        instance,
        len(stale),
    )
    for start in range(0, len(stale), 500):
        client.delete(*stale[start : start + 500])
    client.set(DEPLOYMENT_KEY, instance)
    return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
