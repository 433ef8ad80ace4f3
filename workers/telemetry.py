"""Serves a worker's own /metrics when WORKER_METRICS_PORT is set.

On one machine the web process reads every worker's files from the shared metrics directory.
Where workers run in their own containers (per-container directories), Prometheus scrapes each
worker here instead.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from app.config import get_settings
from app.metrics import prepare_metrics_dir

logger = logging.getLogger(__name__)


@worker_init.connect
def serve_worker_metrics(**_kwargs: Any) -> None:
    settings = get_settings()
    if not settings.worker_metrics_port:
        return
    prepare_metrics_dir(settings.metrics_dir)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.metrics_dir))  # type: ignore[no-untyped-call]
    try:
        start_http_server(settings.worker_metrics_port, addr="0.0.0.0", registry=registry)
    except OSError as exc:
        # Celery logs and swallows a receiver's Exception: the worker would run on, and Prometheus
        # would scrape whatever else holds the port. A taken port stops the worker, as it would a
        # web server.
        logger.error(
            "cannot serve worker metrics on port %d: %s", settings.worker_metrics_port, exc
        )
        raise SystemExit(1) from exc
    logger.info("worker metrics on port %d", settings.worker_metrics_port)
