"""Celery tasks of the ingest workers; thin: they take ids and call the pipeline."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init

from app.jobs import DELETE_VECTORS, INGEST_DOCUMENT, INGEST_QUEUE
from workers import celery
from workers.context import get_context
from workers.ingest.embedder import get_embedder
from workers.ingest.pipeline import ingest_document as run_ingest
from workers.vectors import get_vector_store


@worker_init.connect
def load_embedder_on_start(**_kwargs: Any) -> None:
    """Ingest workers load the embedding model before their first job."""
    if INGEST_QUEUE in (celery.amqp.queues.consume_from or {}):
        get_embedder()


@celery.task(name=INGEST_DOCUMENT)
def ingest_document(document_id: int) -> None:
    run_ingest(get_context(), get_embedder(), document_id)


@celery.task(name=DELETE_VECTORS)
def delete_document_vectors(document_id: int) -> None:
    """A knowledge-base document's or a chat file's vectors (ids are never reused)."""
    for files in (False, True):
        get_vector_store(files).delete_document(document_id)
