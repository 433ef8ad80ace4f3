"""Sends jobs to the workers by task name; the web process never imports worker code."""

from __future__ import annotations

from celery import Celery

from app.config import Settings

GENERATE_REPLY = "workers.inference.generate_reply"


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("queuechat-web")
        self.celery.config_from_object("celery_config")
        self.celery.conf.broker_url = settings.redis_url
        self.celery.conf.broker_transport_options = {
            **self.celery.conf.broker_transport_options,
            "visibility_timeout": settings.visibility_timeout_s,
        }

    def enqueue_reply(self, message_id: int) -> None:
        self.celery.send_task(
            GENERATE_REPLY,
            args=[message_id],
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )
