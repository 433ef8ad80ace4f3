"""Celery tasks of the inference workers; thin: they take ids and run the job with its adapter."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init

from app.jobs import GENERATE_BATCH_ITEM, GENERATE_COMPLETION, GENERATE_REPLY, INTERACTIVE_QUEUE
from workers import celery
from workers.context import get_context
from workers.inference.chat_job import ChatReplyJob
from workers.inference.gates import QueueGate, batch_gate, chat_gate, send_back
from workers.inference.item_job import ItemJob
from workers.inference.model import get_model
from workers.inference.runner import Job, run_job
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


def gated(gate: QueueGate, task: str, job_id: int, job: Job[Any, Any, Any]) -> None:
    """Runs the job when this worker has a place for its kind, else sends it back."""
    model = get_model()
    places = model.engine.config.n_parallel
    if not gate.enter(places):
        send_back(task, job_id)
        return
    try:
        run_job(get_context(), model, job, job_id)
    finally:
        gate.leave(places)


@celery.task(name=GENERATE_REPLY)
def generate_reply(message_id: int) -> None:
    gated(chat_gate, GENERATE_REPLY, message_id, ChatReplyJob(knowledge_base))


@celery.task(name=GENERATE_BATCH_ITEM)
def generate_batch_item(item_id: int) -> None:
    gated(batch_gate, GENERATE_BATCH_ITEM, item_id, ItemJob(stream=False))


@celery.task(name=GENERATE_COMPLETION)
def generate_completion(item_id: int) -> None:
    gated(chat_gate, GENERATE_COMPLETION, item_id, ItemJob(stream=True))
