"""/metrics in Prometheus format: this process's figures, the files every worker process writes
under the metrics directory, and gauges read at scrape time (queue depths, jobs by state).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import resources
from app.jobs import queue_depth, serving_queues
from app.metrics import HTTP_LATENCY
from app.services.monitoring import chunks_stored, ingest_backlog, jobs_by_state

logger = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
# a client may send any method name; the label takes only these (bounded series)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@bp.before_app_request
def start_timer() -> None:
    g.request_started = time.perf_counter()


@bp.after_app_request
def observe_latency(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_LATENCY.labels(method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


class ScrapeTimeCollector(Collector):
    """Figures that live in Redis, the database and the disk, read when Prometheus asks; whether
    Redis and the database answered is itself a figure (for the alerts)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "queuechat_dependency_up",
            "1 when the web process reached the dependency at the last scrape",
            labels=["dependency"],
        )
        depth = GaugeMetricFamily(
            "queuechat_queue_depth", "Jobs waiting in each Celery queue", labels=["queue"]
        )
        try:
            for name in serving_queues(resources().settings):
                depth.add_metric([name], queue_depth(resources().redis, name))
            up.add_metric(["redis"], 1)
        except RedisError:
            logger.warning("queue depths unavailable", exc_info=True)
            up.add_metric(["redis"], 0)
        yield depth
        jobs = GaugeMetricFamily(
            "queuechat_jobs", "Jobs by kind and state (from the database)", labels=["kind", "state"]
        )
        chunks = GaugeMetricFamily(
            "queuechat_ingest_chunks_stored", "Document chunks embedded and stored"
        )
        backlog = GaugeMetricFamily(
            "queuechat_ingest_backlog",
            "Documents waiting to be indexed, and their chunks still to embed",
            labels=["unit"],
        )
        try:
            with resources().db.session() as db:
                for kind, state, count in jobs_by_state(db):
                    jobs.add_metric([kind, state], count)
                chunks.add_metric([], chunks_stored(db))
                documents, chunks_left = ingest_backlog(db)
                backlog.add_metric(["documents"], documents)
                backlog.add_metric(["chunks"], chunks_left)
            up.add_metric(["database"], 1)
        except SQLAlchemyError:
            logger.warning("job counts unavailable", exc_info=True)
            up.add_metric(["database"], 0)
        yield jobs
        yield chunks
        yield backlog
        yield up
        yield from disk_gauges(resources().settings.var_dir)


def disk_gauges(var_dir: Path) -> Iterator[Metric]:
    """Free and total bytes of the file system that holds var/ (database, uploads, Redis)."""
    free = GaugeMetricFamily(
        "queuechat_var_disk_free_bytes", "Free bytes on the file system of var/"
    )
    size = GaugeMetricFamily("queuechat_var_disk_size_bytes", "Size of the file system of var/")
    try:
        usage = shutil.disk_usage(var_dir)
    except OSError:
        logger.warning("disk usage of %s unavailable", var_dir, exc_info=True)
        return
    free.add_metric([], usage.free)
    size.add_metric([], usage.total)
    yield free
    yield size


class InProcessCollector(Collector):
    """This process's in-memory figures (a server not started with PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            if family.samples:
                yield family


def file_backed() -> bool:
    """True when this process writes its metrics to the multiprocess directory."""
    return bool(getattr(prometheus_values.ValueClass, "_multiprocess", False))


@bp.get("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry()
    directory = resources().settings.metrics_dir
    directory.mkdir(parents=True, exist_ok=True)
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    registry.register(ScrapeTimeCollector())
    if not file_backed():
        registry.register(InProcessCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
