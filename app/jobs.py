"""Task names, queue names and the job sender: the one home of every name web and workers share.

The web process sends tasks by name and never imports worker code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import redis
from celery import Celery

from app.config import Settings
from app.logs import CONTEXT_HEADER, bind, carried_context
from app.redis_keys import (
    FAIR_ARRIVALS,
    FAIR_TICKETS,
    SENT_DOCUMENTS,
    SENT_EMBEDDINGS,
    SENT_ITEMS,
    db_channel,
    fair_ticket,
)

logger = logging.getLogger(__name__)

GENERATE_REPLY = "workers.inference.generate_reply"
GENERATE_BATCH_ITEM = "workers.inference.generate_batch_item"
GENERATE_COMPLETION = "workers.inference.generate_completion"
INGEST_DOCUMENT = "workers.ingest.ingest_document"
DELETE_VECTORS = "workers.ingest.delete_document_vectors"
EMBED_TEXTS = "workers.ingest.embed_texts"
EMBED_BATCH_ITEM = "workers.ingest.embed_batch_item"

INTERACTIVE_QUEUE = "inference"  # chat replies and API completions
BATCH_QUEUE = "batch"
INGEST_QUEUE = "ingest"
QUEUES = (INTERACTIVE_QUEUE, BATCH_QUEUE, INGEST_QUEUE)
TASK_QUEUES = {
    GENERATE_REPLY: INTERACTIVE_QUEUE,
    GENERATE_COMPLETION: INTERACTIVE_QUEUE,
    GENERATE_BATCH_ITEM: BATCH_QUEUE,
    INGEST_DOCUMENT: INGEST_QUEUE,
    DELETE_VECTORS: INGEST_QUEUE,
    EMBED_TEXTS: INGEST_QUEUE,
    EMBED_BATCH_ITEM: INGEST_QUEUE,
}
FAIR_TASKS = (GENERATE_REPLY, GENERATE_COMPLETION)  # their tasks are fair-share tickets
MODEL_TASKS = frozenset({*FAIR_TASKS, GENERATE_BATCH_ITEM})  # each goes to its model's queue
# kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x16{step}".
PRIORITY_STEPS = (3, 6, 9)
SENT_AT_HEADER = "queuechat_sent_at"  # epoch seconds: the queue wait is measured from it
SEND_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


def chat_queue(settings: Settings, model: str) -> str:
    """A model's queue of chat replies and API completions (its fair-share tickets): the
    ``inference`` queue while one model is served, ``inference.{model}`` with MODELS."""
    return f"{INTERACTIVE_QUEUE}.{model}" if settings.models else INTERACTIVE_QUEUE


def batch_queue(settings: Settings, model: str) -> str:
    """A model's queue of batch items (as ``chat_queue``)."""
    return f"{BATCH_QUEUE}.{model}" if settings.models else BATCH_QUEUE


def model_queue(settings: Settings, task: str, model: str | None) -> str | None:
    """The queue a generation task goes to, for its job's model (None: the task's own route)."""
    if task not in MODEL_TASKS:
        return None
    name = model or settings.model_names[0]
    return (
        batch_queue(settings, name) if task == GENERATE_BATCH_ITEM else chat_queue(settings, name)
    )


def chat_queues(settings: Settings) -> list[str]:
    return [chat_queue(settings, model) for model in settings.model_names]


def batch_queues(settings: Settings) -> list[str]:
    return [batch_queue(settings, model) for model in settings.model_names]


def serving_queues(settings: Settings) -> list[str]:
    """Every shared queue a worker must consume: ``QUEUES``, or with MODELS each model's."""
    return [*chat_queues(settings), *batch_queues(settings), INGEST_QUEUE]


def base_queue(name: str) -> str:
    """``inference`` for ``inference.{model}`` (a model's queue is counted as its kind)."""
    return name.partition(".")[0]


def worker_queue(worker_id: str) -> str:
    """One inference worker's own queue: chat replies routed to it (app/services/routing.py)."""
    return f"{INTERACTIVE_QUEUE}@{worker_id}"


def queue_keys(queue: str) -> list[str]:
    """The Redis lists that hold a queue's waiting jobs."""
    return [queue, *(f"{queue}\x06\x16{step}" for step in PRIORITY_STEPS)]


def queue_depth(client: redis.Redis, queue: str) -> int:
    """Jobs waiting in a queue, in one round trip."""
    pipe = client.pipeline(transaction=False)
    for key in queue_keys(queue):
        pipe.llen(key)
    return sum(int(count) for count in pipe.execute())


def job_headers(sent_at: float | None = None, **ids: int) -> dict[str, Any]:
    """A task's headers: the log context it carries into the worker, and when it was sent."""
    return {CONTEXT_HEADER: carried_context(**ids), SENT_AT_HEADER: sent_at or time.time()}


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("queuechat-web")
        self.celery.config_from_object("celery_config")
        self.celery.conf.broker_url = settings.redis_url
        self.celery.conf.broker_transport_options = {
            **self.celery.conf.broker_transport_options,
            "visibility_timeout": settings.visibility_timeout_s,
        }
        self.redis = redis.Redis.from_url(settings.redis_url)
        self.settings = settings

    def _send(self, name: str, job_id: int, queue: str | None = None, **ids: int) -> None:
        """Sends a task; its headers carry the log context (request, user, the job's ids), and
        the ids are bound here too, so the web's own lines about the job name them."""
        bind(**ids)
        options = {} if queue is None else {"queue": queue}
        self.celery.send_task(
            name,
            args=[job_id],
            retry=True,
            retry_policy=SEND_RETRY,
            headers=job_headers(**ids),
            **options,
        )

    def _send_ticket(self, name: str, job_id: int, model: str | None, queue: str | None) -> None:
        """A fair-share ticket, then a notice to its model's workers: one whose reserve waits
        for a light user's job looks at once (workers/inference/arrivals.py). Only a hint: a
        lost notice leaves the job to the reserve's next poll."""
        ids = {"message_id" if name == GENERATE_REPLY else "item_id": job_id}
        self.redis.sadd(FAIR_TICKETS, fair_ticket(name, job_id))  # before the job can arrive
        self._send(name, job_id, queue, **ids)
        try:
            channel = db_channel(self.redis, FAIR_ARRIVALS)
            self.redis.publish(channel, model or self.settings.model_names[0])
        except redis.RedisError:
            logger.warning("could not announce %s %s to the workers", name, job_id)

    def enqueue_reply(
        self, message_id: int, model: str | None, worker_id: str | None = None
    ) -> None:
        """To its model's queue, or to one worker's own queue (the one holding the chat)."""
        if worker_id is None:
            queue = model_queue(self.settings, GENERATE_REPLY, model)
        else:
            queue = worker_queue(worker_id)
        self._send_ticket(GENERATE_REPLY, message_id, model, queue)

    def enqueue_completion(self, item_id: int, model: str | None) -> None:
        queue = model_queue(self.settings, GENERATE_COMPLETION, model)
        self._send_ticket(GENERATE_COMPLETION, item_id, model, queue)

    def enqueue_ingest(self, document_id: int) -> None:
        # noted before the send: a task lost on its way is found (workers/lost.py)
        self.redis.sadd(SENT_DOCUMENTS, document_id)
        self._send(INGEST_DOCUMENT, document_id, document_id=document_id)

    def enqueue_vector_delete(self, document_id: int) -> None:
        self._send(DELETE_VECTORS, document_id, document_id=document_id)

    def enqueue_batch_items(
        self, item_ids: Sequence[int], model: str | None, batch_id: int | None = None
    ) -> None:
        """One task per item on its model's batch queue, sent over one broker connection."""
        queue = model_queue(self.settings, GENERATE_BATCH_ITEM, model)
        if batch_id is not None:
            bind(batch_id=batch_id)
        if item_ids:  # noted before the sends: a task lost on its way is found (workers/lost.py)
            self.redis.sadd(SENT_ITEMS, *item_ids)
        with self.celery.producer_or_acquire() as producer:
            for item_id in item_ids:
                self.celery.send_task(
                    GENERATE_BATCH_ITEM,
                    args=[item_id],
                    producer=producer,
                    queue=queue,
                    headers=job_headers(item_id=item_id),
                )

    def enqueue_embedding_items(self, item_ids: Sequence[int]) -> None:
        """A Batch API embeddings line per task, to the ingest workers (they hold the model)."""
        if item_ids:  # noted before the sends: a task lost on its way is found (workers/lost.py)
            self.redis.sadd(SENT_EMBEDDINGS, *item_ids)
        with self.celery.producer_or_acquire() as producer:
            for item_id in item_ids:
                self.celery.send_task(
                    EMBED_BATCH_ITEM,
                    args=[item_id],
                    producer=producer,
                    headers=job_headers(item_id=item_id),
                )

    def enqueue_embedding(self, request_id: str, texts: list[str]) -> None:
        """The ingest workers hold the embedding model; the vectors come back through Redis."""
        self.celery.send_task(EMBED_TEXTS, args=[request_id, texts], headers=job_headers())
