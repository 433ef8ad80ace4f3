"""Tasks lost on their way from Redis to a worker: kombu's Redis transport takes a message off
its list (BRPOP) and records it as unacknowledged in a second round trip; a worker killed
between the two (the reply still in its socket, or its consumer not yet run) takes the message
with it, and nothing (visibility timeout, lease, held set) knows of it. Its job stays queued.

The reaper looks for such jobs among those sent on this broker and still queued: batch items
(noted in ``SENT_ITEMS`` when sent), documents to ingest (``SENT_DOCUMENTS``) and Batch API
embeddings lines (``SENT_EMBEDDINGS``, on the ingest queue too) by id, chat
replies and API completions (their fair-share tickets) by count, since a ticket starts
whichever job fair sharing puts first and so needs not name its own. A job found without a
task is a suspect; still without one at a look at least ``confirm_s`` later, its task is sent
again. Sending a task twice costs nothing: the claim is conditional (a document's also leased),
so a second task finds its job taken or done.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import redis
from redis.typing import EncodableT, FieldT
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.enums import DocumentStatus, ItemStatus, MessageStatus
from app.jobs import (
    EMBED_BATCH_ITEM,
    FAIR_TASKS,
    GENERATE_BATCH_ITEM,
    GENERATE_COMPLETION,
    GENERATE_REPLY,
    INGEST_DOCUMENT,
    INGEST_QUEUE,
    batch_queues,
    queue_keys,
    worker_queue,
)
from app.jobs import chat_queues as all_chat_queues
from app.models import BatchItem, Message, RagDocument
from app.redis_keys import (
    FAIR_TICKETS,
    LOST_SUSPECTS,
    SENT_DOCUMENTS,
    SENT_EMBEDDINGS,
    SENT_ITEMS,
    WORKERS_SET,
)
from app.services.routing import as_text
from workers.inference.presence import held_job, held_text
from workers.unacked import UNACKED, live_held, message_job, task_of

# the ingest queue's jobs looked after: each task's table and the set its sent jobs are noted in
INGEST_JOBS: dict[str, tuple[type[RagDocument] | type[BatchItem], str]] = {
    INGEST_DOCUMENT: (RagDocument, SENT_DOCUMENTS),
    EMBED_BATCH_ITEM: (BatchItem, SENT_EMBEDDINGS),
}

logger = logging.getLogger(__name__)
Job = tuple[str, int]
Send = Callable[[str, int], None]
CHUNK = 500  # ids per IN (...) query


def outside_queues(client: redis.Redis, unacked: dict[bytes, bytes]) -> Counter[Job]:
    """Inference jobs' tasks fetched and unacknowledged (kombu's ``unacked`` records), or
    received by a live worker (few: each worker's prefetch)."""
    found: Counter[Job] = Counter(job for job in map(message_job, unacked.values()) if job)
    for entry in live_held(client):  # a received task is in kombu's records too: once
        job = held_job(entry)
        found[job] = found[job] or 1
    return found


def queued_count(client: redis.Redis, queues: list[str]) -> int:
    """Tasks waiting in these queues, by length alone (one round trip)."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in queue_keys(queue):
            pipe.llen(key)
    return sum(int(length) for length in pipe.execute())


def queued_tasks(
    client: redis.Redis, queues: list[str], tasks: frozenset[str] | None = None
) -> Counter[Job]:
    """The jobs of the tasks waiting in these queues, read one by one: only when the lengths
    say one may be missing (a long batch queue is megabytes)."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in queue_keys(queue):
            pipe.lrange(key, 0, -1)
    raw: list[bytes] = [entry for entries in pipe.execute() for entry in entries]
    return Counter(job for entry in raw if (job := queued_job(entry, tasks)) is not None)


def queued_job(raw: bytes, tasks: frozenset[str] | None = None) -> Job | None:
    """The (task, job id) of a message waiting in a queue, when it is an inference job's (or
    one of ``tasks``)."""
    try:
        return task_of(json.loads(raw)) if tasks is None else task_of(json.loads(raw), tasks)
    except ValueError:
        return None


def chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def queued_items(session: Session, ids: Iterable[int]) -> set[int]:
    return queued_rows(session, BatchItem, ids)


def queued_rows(
    session: Session, table: type[BatchItem] | type[RagDocument], ids: Iterable[int]
) -> set[int]:
    """The ids among ``ids`` whose rows are still queued."""
    queued = ItemStatus.QUEUED if table is BatchItem else DocumentStatus.QUEUED
    found: set[int] = set()
    for part in chunks(sorted(ids)):
        found.update(
            session.scalars(select(table.id).where(table.id.in_(part), table.status == queued))
        )
    return found


def queued_tickets(session: Session, tickets: Iterable[Job]) -> list[Job]:
    """The ticketed chat replies and completions whose rows are still queued, oldest first."""
    replies = [job_id for task, job_id in tickets if task == GENERATE_REPLY]
    completions = [job_id for task, job_id in tickets if task == GENERATE_COMPLETION]
    found: list[Job] = []
    for part in chunks(sorted(replies)):
        rows = session.scalars(
            select(Message.id).where(Message.id.in_(part), Message.status == MessageStatus.QUEUED)
        )
        found += [(GENERATE_REPLY, int(i)) for i in rows]
    found += [(GENERATE_COMPLETION, i) for i in queued_items(session, completions)]
    return sorted(found, key=lambda job: job[1])


def missing_jobs(session: Session, client: redis.Redis) -> list[Job]:
    """The queued jobs sent on this broker that no task here stands for. Counts come first:
    the queues are read task by task only when they hold fewer tasks than jobs wait (a task
    sent twice can hide a lost one until the queue is shorter; it is found then)."""
    # what was sent is read before the tasks: a job sent after that is not looked at
    sent = {int(member) for member in client.smembers(SENT_ITEMS)}
    tickets = [held_job(as_text(member)) for member in client.smembers(FAIR_TICKETS)]
    on_ingest = {
        task: {int(member) for member in client.smembers(key)}
        for task, (_, key) in INGEST_JOBS.items()
    }
    if not sent and not tickets and not any(on_ingest.values()):
        return []
    unacked: dict[bytes, bytes] = client.hgetall(UNACKED)  # type: ignore[assignment]
    missing = [
        job
        for task, ids in on_ingest.items()
        for job in missing_on_ingest(session, client, task, ids, unacked)
    ]
    outside = outside_queues(client, unacked)
    waiting_items = queued_items(session, sent)
    taken = sent - waiting_items  # claimed, cancelled, deleted: no longer to look after
    if taken:
        client.srem(SENT_ITEMS, *taken)
    settings = get_settings()  # with MODELS, every model's queues (counted together)
    batch_tasks = sum(n for (task, _), n in outside.items() if task == GENERATE_BATCH_ITEM)
    if len(waiting_items) > batch_tasks + queued_count(client, batch_queues(settings)):
        found = outside + queued_tasks(client, batch_queues(settings))
        items = [(GENERATE_BATCH_ITEM, i) for i in sorted(waiting_items)]
        missing += [job for job in items if not found[job]]
    waiting_chat = queued_tickets(session, [job for job in tickets if job[0] in FAIR_TASKS])
    chat_queues = all_chat_queues(settings)  # and each worker's own: routed and handed over
    chat_queues += [worker_queue(as_text(member)) for member in client.smembers(WORKERS_SET)]
    chat_tasks = sum(n for (task, _), n in outside.items() if task in FAIR_TASKS)
    short = len(waiting_chat) - chat_tasks - queued_count(client, chat_queues)
    if short > 0:  # a ticket may start another job than its own: the count is what matters
        found = outside + queued_tasks(client, chat_queues)
        chat_tasks = sum(n for (task, _), n in found.items() if task in FAIR_TASKS)
        short = len(waiting_chat) - chat_tasks
        missing += [job for job in waiting_chat if not found[job]][: max(short, 0)]
    return missing


def missing_on_ingest(
    session: Session, client: redis.Redis, task: str, sent: set[int], unacked: dict[bytes, bytes]
) -> list[Job]:
    """The jobs of ``task`` sent to the ingest workers (documents, embeddings lines), still
    queued, whose task is neither waiting on the ingest queue nor fetched and unacknowledged
    (the ingest queue is read only when one waits)."""
    table, key = INGEST_JOBS[task]
    waiting = queued_rows(session, table, sent)
    taken = sent - waiting  # claimed, ended, deleted
    if taken:
        client.srem(key, *taken)
    if not waiting:
        return []
    tasks = frozenset({task})
    found = Counter(job for raw in unacked.values() if (job := message_job(raw, tasks)) is not None)
    found += queued_tasks(client, [INGEST_QUEUE], tasks)
    return [(task, i) for i in sorted(waiting) if not found[(task, i)]]


def send_lost(
    session: Session, client: redis.Redis, send: Send, confirm_s: float, now: float | None = None
) -> list[Job]:
    """One look: records the jobs without a task as suspects, and sends again those that were
    suspects at a look at least ``confirm_s`` ago; returns the jobs sent again."""
    now = time.time() if now is None else now
    missing = missing_jobs(session, client)
    raw: dict[bytes, bytes] = client.hgetall(LOST_SUSPECTS)  # type: ignore[assignment]
    since = {as_text(key): float(value) for key, value in raw.items()}
    suspects = {held_text(*job): since.get(held_text(*job), now) for job in missing}
    lost = [job for job in missing if now - suspects[held_text(*job)] >= confirm_s]
    pipe = client.pipeline()
    pipe.delete(LOST_SUSPECTS)
    waiting: dict[FieldT, EncodableT] = {
        key: value for key, value in suspects.items() if now - value < confirm_s
    }
    if waiting:
        pipe.hset(LOST_SUSPECTS, mapping=waiting)
    pipe.execute()
    for task, job_id in lost:
        logger.warning(
            "%s %s has no task on the broker (lost on its way); sent again", task, job_id
        )
        send(task, job_id)
    return lost
