"""The Celery app: `celery -A workers worker -Q inference`."""

from __future__ import annotations

from celery import Celery

celery = Celery(
    "queuechat",
    include=[
        "workers.inference.tasks",
        "workers.ingest.tasks",
        "workers.ingest.embed_requests",
        "workers.telemetry",
        "workers.reaper",
    ],
)
celery.config_from_object("celery_config")
