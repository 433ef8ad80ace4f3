"""Leases and the reaper on real Redis and the real database: a held lease keeps others out and
stays alive while renewed; the reaper sends again exactly the jobs whose worker is gone."""

from __future__ import annotations

import base64
import json
import time
import uuid

import redis as redis_lib
from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.enums import MessageRole, MessageStatus
from app.jobs import GENERATE_REPLY
from app.models import ChatSession, Message, User
from app.redis_keys import REAPER_LOCK, WORKERS_SET, held_key, running_key, worker_key
from workers.context import build_context
from workers.inference.presence import note_ended, note_held
from workers.leases import Lease, leased, taken_jobs
from workers.reaper import reap


def test_a_lease_keeps_a_second_worker_out_and_lives_while_renewed(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    kind = f"test{uuid.uuid4().hex[:6]}"
    with leased(client, kind, 1, ttl_s=2.0) as first:
        assert first is not None
        with leased(client, kind, 1, ttl_s=2.0) as second:
            assert second is None  # another worker holds job 1
        time.sleep(3.0)  # past the TTL: renewed meanwhile, so still held
        assert not Lease(client, kind, 1, 2.0).acquire()
        assert taken_jobs(client, kind) == [1]
    assert taken_jobs(client, kind) == []  # finished: no longer listed
    again = Lease(client, kind, 1, 2.0)
    assert again.acquire()
    again.release()


def replies(app: Flask, *statuses: MessageStatus) -> list[int]:
    """Assistant messages in those states, in a new user's chat; their ids, in order."""
    with app.extensions["queuechat"].db.session() as db:
        owner = User(username=f"reaper{uuid.uuid4().hex[:6]}", password_hash="x")
        chat = ChatSession(owner=owner, title="reaper")
        rows = [
            Message(session=chat, role=MessageRole.ASSISTANT, status=status) for status in statuses
        ]
        db.add_all([owner, chat, *rows])
        db.flush()
        return [row.id for row in rows]


def test_the_reaper_resends_only_jobs_whose_worker_is_gone(app: Flask, settings: Settings) -> None:
    ctx = build_context(settings)
    client = ctx.streams.client
    orphan, alive, finished, unclaimed = replies(
        app,
        MessageStatus.GENERATING, MessageStatus.GENERATING, MessageStatus.DONE,
        MessageStatus.QUEUED,
    )  # fmt: skip
    held = Lease(client, "reply", alive, 10.0)
    assert held.acquire()  # a live worker generates this one
    # taken by a worker that died: one mid-reply, one final, one leased before its claim
    # committed (its task left the queue with the worker: only the reaper sends it again)
    client.sadd(running_key("reply"), orphan, finished, unclaimed)
    client.delete(REAPER_LOCK)
    sent: list[tuple[str, int]] = []
    try:
        found = reap(ctx, lambda task, job_id: sent.append((task, job_id)))
        assert sorted(found) == [("reply", orphan), ("reply", unclaimed)]
        assert sorted(sent) == [(GENERATE_REPLY, orphan), (GENERATE_REPLY, unclaimed)]
        assert finished not in taken_jobs(client, "reply")  # final: forgotten, not resent
        assert reap(ctx, lambda task, job_id: sent.append((task, job_id))) == []  # one pass
    finally:
        held.release()
        client.srem(running_key("reply"), orphan, unclaimed)
        ctx.db.dispose()
    with app.extensions["queuechat"].db.session() as db:
        assert db.scalar(select(Message.status).where(Message.id == orphan)) == "generating"


def test_tasks_a_dead_worker_received_but_never_started_are_sent_again(
    app: Flask, settings: Settings
) -> None:
    """A worker takes tasks off the queue before it starts them (its threads are busy); killed,
    it takes them along, and kombu gives them back only after the visibility timeout (an
    hour). What it noted as received and not started goes again once its presence lapses."""
    ctx = build_context(settings)
    client = ctx.streams.client
    waiting, finished, started = replies(  # started: ended, in fact
        app, MessageStatus.QUEUED, MessageStatus.DONE, MessageStatus.QUEUED
    )
    ghost = f"ghost-{uuid.uuid4().hex[:6]}"
    for message_id in (waiting, finished, started):
        note_held(client, ghost, GENERATE_REPLY, [message_id])
    note_ended(client, ghost, GENERATE_REPLY, (started,))  # it ran to its end
    note_held(client, ghost, "workers.ingest.ingest_document", [1])  # not an inference job
    assert {m.decode() for m in client.smembers(held_key(ghost))} == {
        f"{GENERATE_REPLY}:{waiting}",
        f"{GENERATE_REPLY}:{finished}",
    }
    client.delete(REAPER_LOCK)
    sent: list[tuple[str, int]] = []
    try:
        found = reap(ctx, lambda task, job_id: sent.append((task, job_id)))
        assert ("reply", waiting) in found
        assert (GENERATE_REPLY, waiting) in sent
        assert (GENERATE_REPLY, finished) not in sent and (GENERATE_REPLY, started) not in sent
        assert not client.exists(held_key(ghost))
        assert ghost.encode() not in client.smembers(WORKERS_SET)
    finally:
        ctx.db.dispose()


def test_a_message_a_dead_worker_fetched_but_never_noted_is_taken_over(
    app: Flask, settings: Settings
) -> None:
    """Between kombu's fetch and Celery's task_received a worker notes nothing: killed there,
    the message sits in kombu's unacked records for the visibility timeout. The reaper takes
    over one older than two leases that no live worker holds, if its job is still queued; one
    whose job ended (a killed worker's, after its lease brought the job back and it finished;
    or an acknowledgement lost with Redis) is dropped as its acknowledgement would have been."""
    ctx = build_context(settings)
    client = ctx.streams.client
    orphan, fresh, held_by_live = replies(app, *[MessageStatus.QUEUED] * 3)
    (ended,) = replies(app, MessageStatus.DONE)

    def fetched(tag: str, message_id: int, at: float) -> None:
        body = base64.b64encode(json.dumps([[message_id], {}, {}]).encode()).decode()
        message = {"body": body, "headers": {"task": GENERATE_REPLY},
                   "properties": {"body_encoding": "base64", "delivery_tag": tag}}  # fmt: skip
        client.hset("unacked", tag, json.dumps([message, "inference", "inference"]))
        client.zadd("unacked_index", {tag: at})

    old = time.time() - 3 * settings.lease_ttl_s
    tags = [f"tag-{uuid.uuid4().hex}" for _ in range(5)]
    fetched(tags[0], orphan, old)
    fetched(tags[1], fresh, time.time())  # just fetched: a live worker is about to note it
    fetched(tags[2], held_by_live, old)
    fetched(tags[3], ended, old)
    fetched(tags[4], 2**62, old)  # its reply deleted since
    alive = f"alive-{uuid.uuid4().hex[:6]}"
    client.set(worker_key(alive), "{}", ex=30)
    client.sadd(WORKERS_SET, alive)
    note_held(client, alive, GENERATE_REPLY, [held_by_live])  # waiting for a thread there
    client.delete(REAPER_LOCK)
    sent: list[tuple[str, int]] = []
    try:
        reap(ctx, lambda task, job_id: sent.append((task, job_id)))
        assert sent == [(GENERATE_REPLY, orphan)]
        assert client.hget("unacked", tags[0]) is None  # taken over: kombu will not resend it
        assert client.hget("unacked", tags[1]) is not None
        assert client.hget("unacked", tags[2]) is not None
        for tag in tags[3:]:  # ended: forgotten, not sent again
            assert client.hget("unacked", tag) is None
            assert client.zscore("unacked_index", tag) is None
    finally:
        client.hdel("unacked", *tags)
        client.zrem("unacked_index", *tags)
        client.delete(held_key(alive), worker_key(alive))
        client.srem(WORKERS_SET, alive)
        ctx.db.dispose()
