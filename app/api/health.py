"""/readyz: the database answers, Redis answers, and every queue has a worker consuming it."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import error_response
from app.extensions import resources
from app.jobs import serving_queues

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
WORKERS_KEY = "queuechat.readyz-workers"


def database_ok() -> bool:
    try:
        with resources().db.session() as db:
            db.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        logger.warning("readiness: database check failed", exc_info=True)
        return False


def redis_ok() -> bool:
    try:
        return bool(resources().redis.ping())
    except RedisError:
        logger.warning("readiness: Redis check failed", exc_info=True)
        return False


def workers_by_queue() -> dict[str, list[str]]:
    """A ready answer (every queue consumed) is kept READYZ_CACHE_S: a healthy system broadcasts
    once per process in that time, however often the public /readyz is asked. A degraded one
    asks every time, so a worker that comes back is seen at once."""
    cached: tuple[float, dict[str, list[str]]] | None = current_app.extensions.get(WORKERS_KEY)
    now = time.monotonic()
    if cached is not None and now - cached[0] < resources().settings.readyz_cache_s:
        return cached[1]
    found = broadcast_for_workers()
    if all(found.get(name) for name in serving_queues(resources().settings)):
        current_app.extensions[WORKERS_KEY] = (now, found)
    return found


def broadcast_for_workers() -> dict[str, list[str]]:
    """Workers answering a broadcast within the timeout, grouped by the queues they consume."""
    found: dict[str, list[str]] = {name: [] for name in serving_queues(resources().settings)}
    inspect = resources().jobs.celery.control.inspect(timeout=resources().settings.readyz_timeout_s)
    try:
        replies: dict[str, list[dict[str, Any]]] = inspect.active_queues() or {}
    except (OperationalError, RedisError, OSError):
        logger.warning("readiness: worker broadcast failed", exc_info=True)
        return found
    for worker, queues in replies.items():
        for queue in queues:
            found.setdefault(queue["name"], []).append(worker)
    return found


@bp.get("/readyz")
def readyz() -> Response:
    checks: dict[str, Any] = {"database": database_ok(), "redis": redis_ok()}
    queues = serving_queues(resources().settings)
    workers = workers_by_queue() if checks["redis"] else {name: [] for name in queues}
    checks["workers"] = {name: sorted(workers.get(name, [])) for name in queues}
    missing = [name for name in queues if not workers.get(name)]
    problems = [name for name in ("database", "redis") if not checks[name]]
    problems += [f"no worker consumes queue '{name}'" for name in missing]
    if problems:
        return error_response(503, "not_ready", "not ready: " + "; ".join(problems), checks)
    return jsonify({"status": "ready", "checks": checks})
