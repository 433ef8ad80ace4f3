"""Fair sharing with a real worker: one user queues many replies, three others one each; with
one engine place the replies run one at a time, so the order they finish in is the order they
started in. Fair sharing starts the light users' replies right after the heavy user's first
(without it they wait behind the heavy user's: the exact order then depends on which tasks the
busy worker sent back to the queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.enums import MessageStatus
from app.jobs import GENERATE_REPLY
from app.models import Message
from app.redis_keys import FAIR_TICKETS, fair_ticket
from app.services.fair_share import Waiting, fair_order
from app.streams import TokenStreams, event_order
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import isolated_settings, register_and_login
from tests.workers.test_leases import replies
from tests.workers.test_priority import aware, send_chat
from workers.context import build_context
from workers.inference import fair
from workers.leases import Lease

HEAVY = 3


def start_order(settings: Settings, *, fair: bool) -> tuple[list[int], list[int], list[int]]:
    """(heavy replies, light replies, every reply in the order it finished)."""
    isolated = isolated_settings(
        settings, 14, fair_sharing=fair, parallel_sequences=1, max_open_replies_per_user=HEAVY
    )
    app = create_app(isolated)
    client: FlaskClient = app.test_client()
    db = app.extensions["queuechat"].db
    heavy_user = register_and_login(client)
    heavy = [send_chat(client, heavy_user) for _ in range(HEAVY)]
    light = [send_chat(client, register_and_login(client)) for _ in range(3)]
    everyone = heavy + light

    def finished() -> list[Message]:
        with db.session() as session:
            rows = session.scalars(select(Message).where(Message.id.in_(everyone))).all()
            return [row for row in rows if row.status == "done"]

    worker = WorkerProcess(isolated, queues="inference")
    try:
        wait_until(lambda: len(finished()) == len(everyone), timeout=240, what="every reply")
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    order = [row.id for row in sorted(finished(), key=lambda row: aware(row.completed_at))]
    return heavy, light, order


def test_light_users_start_before_a_heavy_users_queue(settings: Settings, idle_app: Flask) -> None:
    # a reply queued in the same database whose task went to another broker: it waits first
    # in the database's order, but this worker holds no ticket for it and must leave it alone
    idle = idle_app.test_client()
    elsewhere = send_chat(idle, register_and_login(idle))
    heavy, light, order = start_order(settings, fair=True)
    # every user waits from the start: a heavy user's job first (the oldest user's turn; which
    # of their jobs depends on which ticket the worker's threads took first, and a ticket of
    # the user whose turn it is starts its own job), then each light user's, oldest first,
    # then the rest of the heavy user's
    assert order[0] in heavy, (heavy, light, order)
    assert order[1:4] == light, (heavy, light, order)
    assert sorted(order[4:]) == sorted(set(heavy) - {order[0]}), (heavy, light, order)
    with idle_app.extensions["queuechat"].db.session() as session:
        assert session.get(Message, elsewhere).status == "queued"  # type: ignore[union-attr]


def test_fair_order_serves_the_least_recently_served_user_first() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def job(user: int, n: int) -> Waiting:
        return Waiting(user, "reply", n, start + timedelta(seconds=n))

    heavy = [job(1, n) for n in range(1, 6)]
    late = [job(2, 10), job(3, 11)]
    # user 1 was served most recently; 2 and 3 never: they go first, oldest first
    order = fair_order(heavy + late, {1: 7})
    assert [w.job_id for w in order] == [10, 11, 1, 2, 3, 4, 5]
    # nobody served yet: round robin from the oldest job
    order = fair_order([job(1, 1), job(1, 2), job(2, 3), job(2, 4), job(3, 5)], {})
    assert [w.job_id for w in order] == [1, 3, 5, 2, 4]


def test_light_users_replies_start_together_while_a_heavy_user_holds_every_place(
    settings: Settings,
) -> None:
    """With the default places and reserve: one user's long replies fill every place; three
    other users' questions are answered while all of them still run (the engine suspends the
    heavy user's latest for each), together: each light reply's first token comes before any
    light reply ends (a reserve ticket does not wait for the previous one's reply). Every heavy
    reply still ends whole."""
    places = settings.engine_places
    isolated = isolated_settings(settings, 14, max_open_replies_per_user=places + 1)
    app = create_app(isolated)
    client: FlaskClient = app.test_client()
    db = app.extensions["queuechat"].db
    heavy_user = register_and_login(client)
    heavy = [send_long_chat(client, heavy_user) for _ in range(places)]

    def statuses(ids: list[int]) -> dict[int, str]:
        with db.session() as session:
            rows = session.scalars(select(Message).where(Message.id.in_(ids))).all()
            return {row.id: row.status for row in rows}

    worker = WorkerProcess(isolated, queues="inference")
    try:
        wait_until(
            lambda: list(statuses(heavy).values()) == ["generating"] * places,
            timeout=90,
            what="the heavy user's replies in every place",
        )
        light = [send_long_chat(client, register_and_login(client), LIGHT_TOKENS) for _ in range(3)]
        wait_until(
            lambda: set(statuses(light).values()) == {"done"}, timeout=90, what="the light replies"
        )
        at_light = statuses(heavy)
        streams = TokenStreams.for_settings(redis_lib.Redis.from_url(isolated.redis_url), isolated)
        # The final event follows the stored final state: read the streams once it is there.
        wait_until(
            lambda: all(any(e.is_final for e in streams.read(m)) for m in light),
            timeout=30,
            what="the light replies' final events",
        )
        events = {message_id: streams.read(message_id) for message_id in light}
        wait_until(
            lambda: set(statuses(heavy).values()) == {"done"}, timeout=300, what="every reply"
        )
        with db.session() as session:
            tokens = [session.get_one(Message, i).completion_tokens for i in heavy]
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    assert set(at_light.values()) == {"generating"}, "the light users waited for a place"
    firsts = [next(e for e in found if e.type == "token").id for found in events.values()]
    ends = [next(e for e in found if e.is_final).id for found in events.values()]
    assert max(map(event_order, firsts)) < min(map(event_order, ends)), (
        "a light user's reply started only after another light user's ended",
        firsts,
        ends,
    )
    assert tokens == [LONG_TOKENS] * places, "a suspended reply resumes and ends whole"


LONG_TOKENS = 120
LIGHT_TOKENS = 24


def send_long_chat(client: FlaskClient, headers: dict[str, str], tokens: int = LONG_TOKENS) -> int:
    chat = client.post("/api/sessions", json={}, headers=headers).json
    sent = client.post(
        f"/api/sessions/{chat['id']}/messages",
        json={
            "content": "Write a long story about the sea.",
            "max_tokens": tokens,
            "temperature": 0.0,
        },
        headers=headers,
    )
    assert sent.status_code == 202, sent.json
    return int(sent.json["assistant_message_id"])


def test_a_ticket_whose_job_another_ticket_started_starts_the_next(
    app: Flask, settings: Settings
) -> None:
    """Ticket A started job B (fair sharing's pick), and a worker runs B; B's own ticket then
    reaches a worker: it must start A's job (else A's job would wait without a ticket)."""
    ctx = build_context(settings)
    client = ctx.streams.client
    started, waiting = replies(app, MessageStatus.GENERATING, MessageStatus.QUEUED)
    client.sadd(FAIR_TICKETS, fair_ticket(GENERATE_REPLY, waiting))
    lease = Lease(client, "reply", started, 10.0)
    assert lease.acquire()  # a live worker generates it
    try:
        picks = list(fair.candidates(ctx, GENERATE_REPLY, started))
    finally:
        lease.release()
        ctx.db.dispose()
    # its own job first (taken up only if its lease lapsed: the worker died), then the pick
    assert picks == [(GENERATE_REPLY, started), (GENERATE_REPLY, waiting)]
