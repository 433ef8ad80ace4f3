"""Leases and the reaper on real Redis and the real database: a held lease keeps others out and
stays alive while renewed; the reaper sends again exactly the jobs whose worker is gone."""

from __future__ import annotations

import time
import uuid

import redis as redis_lib
from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.enums import MessageRole, MessageStatus
from app.jobs import GENERATE_REPLY
from app.models import ChatSession, Message, User
from app.redis_keys import REAPER_LOCK, running_key
from workers.context import build_context
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


def test_the_reaper_resends_only_jobs_whose_worker_is_gone(app: Flask, settings: Settings) -> None:
    ctx = build_context(settings)
    client = ctx.streams.client
    with app.extensions["queuechat"].db.session() as db:
        owner = User(username=f"reaper{uuid.uuid4().hex[:6]}", password_hash="x")
        db.add(owner)
        db.flush()
        chat = ChatSession(owner_id=owner.id, title="reaper")
        db.add(chat)
        db.flush()
        rows = [
            Message(session_id=chat.id, role=MessageRole.ASSISTANT, status=status)
            for status in (MessageStatus.GENERATING, MessageStatus.GENERATING, MessageStatus.DONE)
        ]
        db.add_all(rows)
        db.flush()
        orphan, alive, finished = (row.id for row in rows)
    held = Lease(client, "reply", alive, 10.0)
    assert held.acquire()  # a live worker generates this one
    client.sadd(running_key("reply"), orphan, finished)  # taken by a worker that died
    client.delete(REAPER_LOCK)
    sent: list[tuple[str, int]] = []
    try:
        assert reap(ctx, lambda task, job_id: sent.append((task, job_id))) == [("reply", orphan)]
        assert sent == [(GENERATE_REPLY, orphan)]
        assert finished not in taken_jobs(client, "reply")  # final: forgotten, not resent
        assert reap(ctx, lambda task, job_id: sent.append((task, job_id))) == []  # one pass
    finally:
        held.release()
        client.srem(running_key("reply"), orphan)
        ctx.db.dispose()
    with app.extensions["queuechat"].db.session() as db:
        assert db.scalar(select(Message.status).where(Message.id == orphan)) == "generating"
