"""An ingest worker killed halfway: the job is redelivered and the document ends ready, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.config import Settings
from testkit.processes import WorkerProcess
from tests.conftest import USER_DEFAULT_VISIBILITY, isolated_settings
from tests.rag.helpers import upload, wait_for_status
from tests.rag.test_documents import vector_count


@pytest.fixture()
def crash_app(settings: Settings) -> Iterator[tuple[Settings, Flask]]:
    worker_settings = isolated_settings(
        settings, 10, visibility_timeout_s=USER_DEFAULT_VISIBILITY, embed_batch_size=8
    )
    app = create_app(worker_settings)
    yield worker_settings, app
    app.extensions["queuechat"].db.dispose()


def test_killed_ingest_restarts_cleanly(
    crash_app: tuple[Settings, Flask], admin_headers: dict[str, str]
) -> None:
    settings, app = crash_app
    client = app.test_client()
    text = "\n\n".join(f"Paragraph {i}: " + "the quick brown fox jumps. " * 30 for i in range(60))
    first = WorkerProcess(settings, queues="ingest")
    second: WorkerProcess | None = None
    try:
        item = upload(client, admin_headers, ("crash.txt", text.encode())).json["items"][0]
        midway = wait_for_status(client, admin_headers, item["id"], {"embedding"})
        first.kill()
        assert midway["chunks_done"] < midway["chunk_count"]
        second = WorkerProcess(settings, queues="ingest")
        done = wait_for_status(client, admin_headers, item["id"], {"ready", "error"})
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert done["status"] == "ready", done
    assert done["chunks_done"] == done["chunk_count"] == midway["chunk_count"]
    assert vector_count(settings, item["id"]) == done["chunk_count"]
