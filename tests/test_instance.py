"""A database started afresh next to a Redis that kept its data (a deleted SQLite file, a
restored dump): the old keys would meet the new rows' ids (a new reply shown an old stream,
cancelled by an old flag, a queued task run on a new row). The first process to start drops
them; a Redis of the same database keeps everything."""

from __future__ import annotations

from pathlib import Path

import redis as redis_lib

from app import create_app
from app.config import Settings
from app.db import Database
from app.instance import bind_redis, database_instance
from app.migrate import upgrade
from app.redis_keys import DEPLOYMENT_KEY
from app.streams import TokenStreams


def test_a_redis_of_another_database_is_emptied_of_its_keys(
    settings: Settings, tmp_path: Path
) -> None:
    base = settings.redis_url.rsplit("/", 1)[0]
    client = redis_lib.Redis.from_url(f"{base}/6")
    client.flushdb()
    urls = []
    for name in ("old", "new"):
        urls.append(f"sqlite:///{tmp_path / name}.db")
        upgrade(urls[-1])
    old, new = Database(urls[0]), Database(urls[1])
    old_id, new_id = database_instance(old), database_instance(new)
    assert old_id and new_id and old_id != new_id
    # the old database's life: its reply 1 streamed and ended, reply 2 was cancelled queued
    assert bind_redis(old, client) is False
    streams = TokenStreams(client, final_ttl_s=600, live_ttl_s=60)
    streams.append(1, "token", text="an old reply")
    streams.append(1, "done", status="done")
    streams.request_cancel(2)
    client.lpush("inference", "an old task")
    client.set("someone-elses-key", "kept")
    assert bind_redis(old, client) is False  # the same database again: all kept
    assert streams.exists(1) and client.llen("inference") == 1
    # the new database's web process starts (the real path: create_app builds its resources)
    create_app(settings.model_copy(update={"database_url": urls[1], "redis_url": f"{base}/6"}))
    assert client.get(DEPLOYMENT_KEY) == new_id.encode()
    assert not streams.exists(1)
    assert client.exists(streams.stream_key(1), "qc:cancel:2", "inference") == 0
    assert client.get("someone-elses-key") == b"kept"  # not QueueChat's: left alone
    old.dispose()
    new.dispose()
