"""Fair sharing of the model between users: the next chat reply or API completion to start is
the oldest waiting job of the user whose last job started least recently (round robin over
the users who wait), so one user's 20 queued replies cannot hold everyone else back.

The order lives in the database (the queued rows) and in Redis (when each user was last
served: a counter, not a clock), so every worker of every machine picks by the same order.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import ItemStatus, MessageRole, MessageStatus
from app.jobs import GENERATE_COMPLETION, GENERATE_REPLY
from app.models import BatchItem, ChatSession, Message, as_utc
from app.redis_keys import FAIR_CLOCK, FAIR_SERVED

MAX_WAITING = 5000  # rows read per pick: the per-user caps keep far fewer waiting


@dataclass(frozen=True)
class Waiting:
    user_id: int
    task: str  # GENERATE_REPLY or GENERATE_COMPLETION
    job_id: int
    queued_at: datetime
    model: str | None = None  # None: the default model (a row from before MODELS)


def waiting_jobs(db: Session) -> list[Waiting]:
    """Chat replies and API completions that no worker has taken, oldest first."""
    replies = db.execute(
        select(ChatSession.owner_id, Message.id, Message.created_at, Message.model_name)
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(Message.status == MessageStatus.QUEUED, Message.role == MessageRole.ASSISTANT)
        .order_by(Message.id)
        .limit(MAX_WAITING)
    ).all()
    completions = db.execute(
        select(BatchItem.owner_id, BatchItem.id, BatchItem.created_at, BatchItem.model)
        .where(BatchItem.batch_id.is_(None), BatchItem.status == ItemStatus.QUEUED)
        .order_by(BatchItem.id)
        .limit(MAX_WAITING)
    ).all()
    jobs = [Waiting(int(u), GENERATE_REPLY, int(i), as_utc(t), m) for u, i, t, m in replies]
    jobs += [
        Waiting(int(u), GENERATE_COMPLETION, int(i), as_utc(t), m) for u, i, t, m in completions
    ]
    return sorted(jobs, key=lambda job: (job.queued_at, job.task, job.job_id))


def last_served(client: redis.Redis) -> dict[int, int]:
    """Each user's turn number when a job of theirs last started (absent: never)."""
    raw: dict[bytes, bytes] = client.hgetall(FAIR_SERVED)  # type: ignore[assignment]
    return {int(user): int(turn) for user, turn in raw.items()}


def fair_order(waiting: list[Waiting], served: dict[int, int]) -> list[Waiting]:
    """The order workers start the waiting jobs in, if nothing else arrives: each next job is
    the oldest of the user served least recently (ties: the user whose job waited longest)."""
    queues: dict[int, deque[Waiting]] = defaultdict(deque)
    for job in waiting:  # oldest first
        queues[job.user_id].append(job)
    heap = [(served.get(user, 0), jobs[0].queued_at, user) for user, jobs in queues.items()]
    heapq.heapify(heap)
    turn = max(served.values(), default=0)
    order: list[Waiting] = []
    while heap:
        _, _, user = heapq.heappop(heap)
        jobs = queues[user]
        order.append(jobs.popleft())
        turn += 1
        if jobs:
            heapq.heappush(heap, (turn, jobs[0].queued_at, user))
    return order


def mark_served(client: redis.Redis, user_id: int) -> None:
    """A job of the user starts now: they go to the back of the line."""
    turn = int(client.incr(FAIR_CLOCK))
    client.hset(FAIR_SERVED, str(user_id), turn)


def of_model(waiting: list[Waiting], model: str, default: str) -> list[Waiting]:
    """The jobs that wait for ``model`` (``default``: the default model's name)."""
    return [job for job in waiting if (job.model or default) == model]


def queued_reply_order(db: Session, client: redis.Redis, default: str) -> dict[int, int]:
    """Each waiting chat reply's queue position: where workers of its model will start it
    (API completions waiting between them are not counted)."""
    waiting, served = waiting_jobs(db), last_served(client)
    positions: dict[int, int] = {}
    for model in sorted({job.model or default for job in waiting}):
        order = fair_order(of_model(waiting, model, default), served)
        replies = [job.job_id for job in order if job.task == GENERATE_REPLY]
        positions.update((job_id, n) for n, job_id in enumerate(replies, start=1))
    return positions
