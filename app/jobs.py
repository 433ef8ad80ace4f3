"""Sends jobs to the workers by task name; the web process never imports worker code."""

from __future__ import annotations

from celery import Celery

from app.config import Settings

GENERATE_REPLY = "workers.inference.generate_reply"
INGEST_DOCUMENT = "workers.ingest.ingest_document"
DELETE_VECTORS = "workers.ingest.delete_document_vectors"
GENERATE_BATCH_ITEM = "workers.inference.generate_batch_item"
GENERATE_COMPLETION = "workers.inference.generate_completion"
EMBED_TEXTS = "workers.ingest.embed_texts"


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
        self.celery.send_task(
            name,
            args=list(args),
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )

    def enqueue_reply(self, message_id: int) -> None:
        self._send(GENERATE_REPLY, message_id)

    def enqueue_ingest(self, document_id: int) -> None:
        self._send(INGEST_DOCUMENT, document_id)

    def enqueue_vector_delete(self, document_id: int) -> None:
        self._send(DELETE_VECTORS, document_id)

    def enqueue_batch_items(self, item_ids: list[int]) -> None:
        """One task per item on queue ``batch``, sent over one broker connection."""
        with self.celery.producer_or_acquire() as producer:
            for item_id in item_ids:
                self.celery.send_task(GENERATE_BATCH_ITEM, args=[item_id], producer=producer)

    def enqueue_completion(self, item_id: int) -> None:
        self.celery.send_task(
            GENERATE_COMPLETION,
            args=[item_id],
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )

    def enqueue_embedding(self, request_id: str, texts: list[str]) -> None:
        """The ingest workers hold the embedding model; the vectors come back through Redis."""
        self.celery.send_task(EMBED_TEXTS, args=[request_id, texts])
