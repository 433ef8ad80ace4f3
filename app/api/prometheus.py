"""/metrics in Prometheus format: this process's figures, the files every worker process writes
under the metrics directory, and gauges read at scrape time (queue depths, jobs by state).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import resources
from app.jobs import QUEUES, queue_depth
from app.metrics import HTTP_LATENCY
from app.services.monitoring import chunks_stored, jobs_by_state

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
    """Figures that live in Redis and the database, read when Prometheus asks."""

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "queuechat_queue_depth", "Jobs waiting in each Celery queue", labels=["queue"]
        )
        try:
            for name in QUEUES:
                depth.add_metric([name], queue_depth(resources().redis, name))
        except RedisError:
            logger.warning("queue depths unavailable", exc_info=True)
        yield depth
        jobs = GaugeMetricFamily(
            "queuechat_jobs", "Jobs by kind and state (from the database)", labels=["kind", "state"]
        )
        chunks = GaugeMetricFamily(
            "queuechat_ingest_chunks_stored", "Document chunks embedded and stored"
        )
        try:
            with resources().db.session() as db:
                for kind, state, count in jobs_by_state(db):
                    jobs.add_metric([kind, state], count)
                chunks.add_metric([], chunks_stored(db))
        except SQLAlchemyError:
            logger.warning("job counts unavailable", exc_info=True)
        yield jobs
        yield chunks


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
