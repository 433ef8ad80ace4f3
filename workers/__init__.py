"""The Celery app: `celery -A workers worker -Q inference`."""

from __future__ import annotations

from celery import Celery

import workers.task_context  # noqa: F401  (connects the logging signals before the worker starts)

celery = Celery(
    "queuechat",
    include=[
        "workers.inference.tasks",
        "workers.ingest.tasks",
        "workers.ingest.embed_requests",
        "workers.ingest.batch_embeddings",
        "workers.telemetry",
        "workers.reaper",
    ],
)
celery.config_from_object("celery_config")
