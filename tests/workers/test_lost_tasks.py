"""A job whose task Redis gave to a worker that died before kombu recorded it (BRPOP, then a
second round trip): with default settings a live worker's reaper sends it again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.jobs import (
    BATCH_QUEUE,
    EMBED_BATCH_ITEM,
    GENERATE_BATCH_ITEM,
    GENERATE_REPLY,
    INGEST_DOCUMENT,
    INGEST_QUEUE,
    INTERACTIVE_QUEUE,
)
from app.models import BatchItem, Message, RagDocument, User
from app.redis_keys import SENT_DOCUMENTS, SENT_EMBEDDINGS
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import isolated_settings, register_and_login
from workers.lost import send_lost
from workers.unacked import UNACKED


def test_tasks_lost_on_their_way_to_a_worker_are_sent_again(settings: Settings) -> None:
    isolated, app, broker, headers, batch = queued_batch(settings, 2)
    client, db = app.test_client(), app.extensions["queuechat"].db
    chat = client.post("/api/sessions", json={}, headers=headers).json
    sent = client.post(
        f"/api/sessions/{chat['id']}/messages",
        json={"content": "Hi", "max_tokens": 4},
        headers=headers,
    ).json
    # what a worker killed right after its BRPOP takes with it: the oldest task of each queue
    assert broker.rpop(BATCH_QUEUE) is not None and broker.rpop(INTERACTIVE_QUEUE) is not None
    assert broker.llen(BATCH_QUEUE) == 1 and broker.llen(INTERACTIVE_QUEUE) == 0

    def states() -> tuple[list[str], str]:
        with db.session() as session:
            items = session.scalars(
                select(BatchItem.status).where(BatchItem.batch_id == batch["id"])
            )
            reply = session.get(Message, sent["assistant_message_id"])
            assert reply is not None
            return sorted(items), reply.status

    worker = WorkerProcess(isolated, queues="inference,batch")
    try:
        wait_until(lambda: states() == (["done", "done"], "done"), timeout=90, what="the lost jobs")
    finally:
        worker.stop()
    with db.session() as session:
        items = list(session.scalars(select(BatchItem).where(BatchItem.batch_id == batch["id"])))
        reply = session.get(Message, sent["assistant_message_id"])
        assert reply is not None and reply.content and reply.attempts == 1
    assert all(item.output and item.attempts == 1 for item in items)
    assert "has no task on the broker" in worker.log_path.read_text()
    db.dispose()


def test_a_job_is_sent_again_only_when_no_task_stands_for_it(settings: Settings) -> None:
    """The look itself (a fake clock): a job without a task is a suspect first; one whose task
    waits fetched and unacknowledged is not; a chat ticket that names another job counts."""
    _, app, broker, headers, batch = queued_batch(settings, 3)
    client, db = app.test_client(), app.extensions["queuechat"].db
    replies = []
    for _ in range(2):
        chat = client.post("/api/sessions", json={}, headers=headers).json
        posted = client.post(
            f"/api/sessions/{chat['id']}/messages", json={"content": "Hi"}, headers=headers
        ).json
        replies.append(posted["assistant_message_id"])
    with db.session() as session:
        ids = sorted(session.scalars(select(BatchItem.id).where(BatchItem.batch_id == batch["id"])))
    first, second, third = ids
    taken = broker.rpop(BATCH_QUEUE)  # the first item's task: fetched, then recorded as unacked
    assert taken is not None
    broker.hset(UNACKED, "tag-1", json.dumps([json.loads(taken), "", BATCH_QUEUE]))
    assert broker.rpop(BATCH_QUEUE) is not None  # the second item's: lost
    # the first reply's task is lost; the second's stands (a ticket may start either reply)
    assert broker.rpop(INTERACTIVE_QUEUE) is not None
    sends: list[tuple[str, int]] = []

    def look(now: float) -> list[tuple[str, int]]:
        with db.session() as session:
            return send_lost(session, broker, lambda *job: sends.append(job), 10.0, now)

    assert look(1000.0) == []  # suspects only
    assert look(1005.0) == []  # not yet long enough
    assert look(1010.0) == [(GENERATE_BATCH_ITEM, second), (GENERATE_REPLY, replies[0])]
    assert sends == [(GENERATE_BATCH_ITEM, second), (GENERATE_REPLY, replies[0])]
    assert third not in {job_id for _, job_id in sends} and first not in dict(sends).values()
    db.dispose()


def queued_batch(
    settings: Settings, items: int
) -> tuple[Settings, Flask, redis_lib.Redis, dict[str, str], dict[str, Any]]:
    """A user's batch of ``items`` short lines, queued on a Redis database no worker reads."""
    isolated = isolated_settings(settings, 7)
    app = create_app(isolated)
    client = app.test_client()
    headers = register_and_login(client)
    rows = [{"custom_id": f"r{i}", "prompt": "Say hi.", "max_tokens": 4} for i in range(items)]
    batch = client.post(
        "/api/batches",
        data="\n".join(json.dumps(r) for r in rows),
        headers={**headers, "Content-Type": "application/jsonl"},
    ).json
    return isolated, app, redis_lib.Redis.from_url(isolated.redis_url), headers, batch


def document_row(status: str, _owner: int) -> RagDocument:
    tag = uuid.uuid4().hex
    return RagDocument(
        title=tag,
        original_name=f"{tag}.txt",
        content_type="text/plain",
        size_bytes=1,
        sha256=tag + tag,
        storage_name=tag,
        status="ready" if status == "done" else status,
    )


def embedding_row(status: str, owner: int) -> BatchItem:
    return BatchItem(owner_id=owner, request={"input": ["hi"]}, status=status)


@pytest.mark.parametrize(
    ("task", "row", "noted_in"),
    [
        (INGEST_DOCUMENT, document_row, SENT_DOCUMENTS),
        (EMBED_BATCH_ITEM, embedding_row, SENT_EMBEDDINGS),
    ],
    ids=["document", "embeddings line"],
)
def test_an_ingest_job_whose_task_was_lost_is_sent_again(
    settings: Settings, task: str, row: Callable[[str, int], Any], noted_in: str
) -> None:
    """Documents to ingest, or Batch API embeddings lines, sent as the upload or the batch
    does: one task lost on its way (off the ingest queue, in no record), one fetched and
    unacknowledged, one waiting, and a job already done. Only the lost one is sent again, after
    two looks a lease apart; the done one is no longer looked after."""
    isolated = isolated_settings(settings, 7)
    app = create_app(isolated)
    resources = app.extensions["queuechat"]
    broker = redis_lib.Redis.from_url(isolated.redis_url)
    client = app.test_client()
    username = f"u{uuid.uuid4().hex[:8]}"
    register_and_login(client, username)
    ids = []
    with resources.db.session() as session:
        owner = session.scalars(select(User.id).where(User.username == username)).one()
        for status in ("queued", "queued", "queued", "done"):
            added = row(status, owner)
            session.add(added)
            session.flush()
            ids.append(added.id)
    for job_id in ids:
        if task == INGEST_DOCUMENT:
            resources.jobs.enqueue_ingest(job_id)
    if task == EMBED_BATCH_ITEM:
        resources.jobs.enqueue_embedding_items(ids)
    lost, fetched, waiting, _done = ids
    assert broker.rpop(INGEST_QUEUE) is not None  # the first sent: lost on its way
    taken = broker.rpop(INGEST_QUEUE)  # the second: fetched, then recorded as unacked
    assert taken is not None
    broker.hset(UNACKED, "tag-1", json.dumps([json.loads(taken), "", INGEST_QUEUE]))
    sends: list[tuple[str, int]] = []

    def look(now: float) -> list[tuple[str, int]]:
        with resources.db.session() as session:
            return send_lost(session, broker, lambda *job: sends.append(job), 10.0, now)

    assert look(1000.0) == []  # a suspect only
    assert look(1010.0) == [(task, lost)]
    assert sends == [(task, lost)]
    noted = {int(member) for member in broker.smembers(noted_in)}
    assert noted == {lost, fetched, waiting}, "a job done is no longer looked after"
    resources.db.dispose()
