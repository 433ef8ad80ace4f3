"""Task names, queue names and the job sender: the one home of every name web and workers share.

The web process sends tasks by name and never imports worker code.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from celery import Celery

from app.config import Settings

GENERATE_REPLY = "workers.inference.generate_reply"
GENERATE_BATCH_ITEM = "workers.inference.generate_batch_item"
GENERATE_COMPLETION = "workers.inference.generate_completion"
INGEST_DOCUMENT = "workers.ingest.ingest_document"
DELETE_VECTORS = "workers.ingest.delete_document_vectors"
EMBED_TEXTS = "workers.ingest.embed_texts"

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
}
# kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x16{step}".
PRIORITY_STEPS = (3, 6, 9)
SEND_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


def queue_keys(queue: str) -> list[str]:
    """The Redis lists that hold a queue's waiting jobs."""
    return [queue, *(f"{queue}\x06\x16{step}" for step in PRIORITY_STEPS)]


def queue_depth(client: redis.Redis, queue: str) -> int:
    """Jobs waiting in a queue, in one round trip."""
    pipe = client.pipeline(transaction=False)
    for key in queue_keys(queue):
        pipe.llen(key)
    return sum(int(count) for count in pipe.execute())


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("queuechat-web")
        self.celery.config_from_object("celery_config")
        self.celery.conf.broker_url = settings.redis_url
        self.celery.conf.broker_transport_options = {
            **self.celery.conf.broker_transport_options,
            "visibility_timeout": settings.visibility_timeout_s,
        }

    def _send(self, name: str, *args: object) -> None:
        self.celery.send_task(name, args=list(args), retry=True, retry_policy=SEND_RETRY)

    def enqueue_reply(self, message_id: int) -> None:
        self._send(GENERATE_REPLY, message_id)

    def enqueue_completion(self, item_id: int) -> None:
        self._send(GENERATE_COMPLETION, item_id)

    def enqueue_ingest(self, document_id: int) -> None:
        self._send(INGEST_DOCUMENT, document_id)

    def enqueue_vector_delete(self, document_id: int) -> None:
        self._send(DELETE_VECTORS, document_id)

    def enqueue_batch_items(self, item_ids: Sequence[int]) -> None:
        """One task per item on queue ``batch``, sent over one broker connection."""
        with self.celery.producer_or_acquire() as producer:
            for item_id in item_ids:
                self.celery.send_task(GENERATE_BATCH_ITEM, args=[item_id], producer=producer)

    def enqueue_embedding(self, request_id: str, texts: list[str]) -> None:
        """The ingest workers hold the embedding model; the vectors come back through Redis."""
        self.celery.send_task(EMBED_TEXTS, args=[request_id, texts])
