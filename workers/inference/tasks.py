"""Celery tasks of the inference workers; thin: they take ids and run the job with its adapter."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init

from app.jobs import GENERATE_BATCH_ITEM, GENERATE_COMPLETION, GENERATE_REPLY, INTERACTIVE_QUEUE
from workers import celery
from workers.context import get_context
from workers.inference.batch_gate import gate, send_back
from workers.inference.chat_job import ChatReplyJob
from workers.inference.item_job import ItemJob
from workers.inference.model import get_model
from workers.inference.runner import run_job
from workers.ingest.embedder import get_embedder
from workers.retrieval import retrieve
from workers.vectors import Hit, get_vector_store

logger = logging.getLogger(__name__)


@worker_init.connect
def load_on_start(**_kwargs: Any) -> None:
    """Open connections, and load the model in inference workers, before the first job.

    Workers run the threads pool: one model and one engine per process, no fork after the model
    is loaded, a thread per job in flight (two per engine place), and heartbeats keep flowing
    while llama.cpp computes.
    """
    get_context()
    if INTERACTIVE_QUEUE in (celery.amqp.queues.consume_from or {}):
        get_model()
        get_embedder()  # knowledge-base questions are embedded here, not on the ingest queue


def knowledge_base(query: str) -> list[Hit]:
    return retrieve(get_context(), get_embedder(), get_vector_store(), query)


@celery.task(name=GENERATE_REPLY)
def generate_reply(message_id: int) -> None:
    run_job(get_context(), get_model(), ChatReplyJob(knowledge_base), message_id)


@celery.task(name=GENERATE_BATCH_ITEM)
def generate_batch_item(item_id: int) -> None:
    model = get_model()
    places = model.engine.config.n_parallel
    if not gate.enter(places):
        send_back(item_id)
        return
    try:
        run_job(get_context(), model, ItemJob(stream=False), item_id)
    finally:
        gate.leave(places)


@celery.task(name=GENERATE_COMPLETION)
def generate_completion(item_id: int) -> None:
    run_job(get_context(), get_model(), ItemJob(stream=True), item_id)
