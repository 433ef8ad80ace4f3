"""What a worker keeps around each task: structlog formatting for every line, the context the
sender carried (request id, user, message / batch / document) plus the task's own id bound to
the task's lines, and when the job was sent (for the queue-wait histogram)."""

from __future__ import annotations

import contextvars
import logging
import time
from typing import Any

from celery import Task
from celery.signals import setup_logging, task_postrun, task_prerun

from app.config import get_settings
from app.jobs import (
    DELETE_VECTORS,
    GENERATE_BATCH_ITEM,
    GENERATE_COMPLETION,
    GENERATE_REPLY,
    INGEST_DOCUMENT,
    INGEST_QUEUE,
    SENT_AT_HEADER,
)
from app.logs import CONTEXT_HEADER, bind, bind_carried, clear, configure_logging
from app.metrics import observe_queue_wait

# the log key of each task's one argument, the id of its row
JOB_ID_KEYS = {
    GENERATE_REPLY: "message_id",
    GENERATE_BATCH_ITEM: "item_id",
    GENERATE_COMPLETION: "item_id",
    INGEST_DOCUMENT: "document_id",
    DELETE_VECTORS: "document_id",
}
_sent_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("sent_at", default=None)
_started: contextvars.ContextVar[float] = contextvars.ContextVar("started", default=0.0)
logger = logging.getLogger(__name__)


@setup_logging.connect
def configure_worker_logging(loglevel: Any = None, **_kwargs: Any) -> None:
    """Replaces Celery's own log set-up (a receiver here means Celery configures nothing)."""
    settings = get_settings()
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
    configure_logging(settings.log_format, str(level or settings.log_level), service="worker")


def header(task: Task, name: str) -> Any:
    """A custom header of the task's message (Celery puts them on the request itself)."""
    request = task.request
    found = getattr(request, name, None)
    if found is None:
        found = (getattr(request, "headers", None) or {}).get(name)
    return found


def current_sent_at() -> float | None:
    """When the running task's job was first sent (None for a task sent without it)."""
    return _sent_at.get()


def job_started(queue: str, model: str) -> None:
    """The running task's job starts now: its time in the queue is observed."""
    observe_queue_wait(queue, model, current_sent_at())


@task_prerun.connect
def bind_task_context(
    task_id: str | None = None,
    task: Task | None = None,
    args: tuple[Any, ...] | list[Any] | None = None,
    **_kwargs: Any,
) -> None:
    clear()
    if task is None:
        return
    bind_carried({CONTEXT_HEADER: header(task, CONTEXT_HEADER)})
    bind(task_id=task_id, task=task.name)
    key = JOB_ID_KEYS.get(task.name)
    if key is not None and args and isinstance(args[0], int):
        bind(**{key: args[0]})
    sent_at = header(task, SENT_AT_HEADER)
    _sent_at.set(float(sent_at) if isinstance(sent_at, int | float) else None)
    _started.set(time.monotonic())
    waited = time.time() - sent_at if isinstance(sent_at, int | float) else None
    logger.info("task started%s", f" after {waited:.3f} s in the queue" if waited else "")
    if (task.request.delivery_info or {}).get("routing_key") == INGEST_QUEUE:
        job_started(INGEST_QUEUE, "embedding")  # ingest runs every job it takes at once


@task_postrun.connect
def clear_task_context(state: str | None = None, **_kwargs: Any) -> None:
    logger.info("task finished (%s) in %.3f s", state, time.monotonic() - _started.get())
    clear()
    _sent_at.set(None)
