"""Which interactive job a worker starts when a task reaches it: the fair one.

A task on ``inference`` is a ticket: every queued chat reply and API completion sent one, so
there are as many tickets as waiting jobs, and whichever ticket a worker holds starts the job
that fair sharing puts first (app/services/fair_share.py), not necessarily its own. A job stays
``queued`` in the database until a worker claims it, so a worker that dies holding a ticket
loses nothing: the broker hands the ticket to another. A ticket whose own job is already
running takes that job up if its lease lapsed (sent again after its worker died); if another
ticket started it and a worker runs it, the ticket starts the fair pick like any other (else
one waiting job would be left without a ticket).

Beyond its engine's places a worker holds a reserve of tickets (FAIR_RESERVE_PLACES). A ticket
in the reserve starts only a job of a user with nothing in this worker's engine, and only when
some user runs two replies or more there; the engine then suspends the latest of that user's
replies for it (workers/inference/engine.py). So three people who send a question while one
colleague's 20 replies fill every place start at once, without waiting for places to free.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator

import redis
from sqlalchemy import select

from app.enums import ItemStatus, MessageStatus
from app.jobs import GENERATE_REPLY
from app.models import BatchItem, Message
from app.redis_keys import FAIR_TICKETS, fair_ticket
from app.services.fair_share import (
    MAX_WAITING,
    Waiting,
    fair_order,
    last_served,
    mark_served,
    of_model,
    waiting_jobs,
)
from app.services.routing import as_text
from workers.context import WorkerContext

logger = logging.getLogger(__name__)


def is_running(ctx: WorkerContext, task: str, job_id: int) -> bool:
    """The ticket's own job was taken by a worker (this is a redelivery: take it up)."""
    table = Message if task == GENERATE_REPLY else BatchItem
    running = MessageStatus.GENERATING if task == GENERATE_REPLY else ItemStatus.RUNNING
    with ctx.db.session() as session:
        status = session.scalar(select(table.status).where(table.id == job_id))
    return status == running


def ticketed(
    client: redis.Redis, tickets: set[str], waiting: list[Waiting], own: tuple[str, int]
) -> list[Waiting]:
    """The waiting jobs sent to this broker (and the ticket's own job): a queued row whose task
    went to another broker (another deployment on the same database) is not this worker's to
    start. Tickets of jobs no longer waiting (cancelled, deleted) are dropped on the way: the
    tickets are read before the rows, and a job's row is stored before its ticket is sent."""
    mine = [
        job
        for job in waiting
        if fair_ticket(job.task, job.job_id) in tickets or (job.task, job.job_id) == own
    ]
    if len(waiting) < MAX_WAITING:
        stale = tickets - {fair_ticket(job.task, job.job_id) for job in waiting}
        if stale:
            client.srem(FAIR_TICKETS, *stale)
    return mine


def own_model(ctx: WorkerContext, waiting: list[Waiting]) -> list[Waiting]:
    """The jobs of the model this worker serves: each model's tickets start only its jobs."""
    settings = ctx.settings
    return of_model(waiting, settings.served_model_name, settings.model_names[0])


def pick_light(ctx: WorkerContext, inside: Collection[int]) -> Waiting | None:
    """The first waiting job, in fair order, of a user with nothing in the engine (``inside``),
    taken: its ticket dropped and its user marked served. None when there is none."""
    client = ctx.streams.client
    tickets = {as_text(member) for member in client.smembers(FAIR_TICKETS)}  # before the rows
    with ctx.db.session() as session:
        waiting = ticketed(client, tickets, waiting_jobs(session), ("", 0))
    for job in fair_order(own_model(ctx, waiting), last_served(client)):
        if job.user_id in inside:
            continue
        mark_served(client, job.user_id)
        client.srem(FAIR_TICKETS, fair_ticket(job.task, job.job_id))
        logger.info("a reserve ticket starts %s %s (user %s)", job.task, job.job_id, job.user_id)
        return job
    return None


def candidates(ctx: WorkerContext, task: str, job_id: int) -> Iterator[tuple[str, int]]:
    """The jobs this ticket should try to start, best first; the caller stops at the first it
    claims (another worker may claim one between the pick and the claim)."""
    if not ctx.settings.fair_sharing:
        yield task, job_id
        return
    client = ctx.streams.client
    tickets = {as_text(member) for member in client.smembers(FAIR_TICKETS)}  # before the rows
    with ctx.db.session() as session:
        waiting = ticketed(client, tickets, waiting_jobs(session), (task, job_id))
    order = fair_order(own_model(ctx, waiting), last_served(client))
    own = next((job for job in order if (job.task, job.job_id) == (task, job_id)), None)
    if order and own is not None and own.user_id == order[0].user_id:
        order.remove(own)  # the same user's turn: its own job (a routed chat's tokens are here)
        order.insert(0, own)
    if own is None:  # not waiting: running (sent again after its worker died: take it up; or
        # started by another ticket, which another worker runs: go on), or final, or deleted
        # (the job path drops what its row left in Redis, its cancel flag), then go on
        yield task, job_id
    for job in order:
        mark_served(client, job.user_id)
        client.srem(FAIR_TICKETS, fair_ticket(job.task, job.job_id))  # started or taken
        if (job.task, job.job_id) != (task, job_id):
            logger.info(
                "ticket %s %s starts %s %s (fair share)", task, job_id, job.task, job.job_id
            )
        yield job.task, job.job_id
