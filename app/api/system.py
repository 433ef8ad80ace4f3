"""Admin: queue depths, live workers and where Flower is, at a glance."""

from __future__ import annotations

import logging
from typing import Any

import gevent
from flask import Blueprint, Response, request
from flask_jwt_extended import jwt_required
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.api.deps import require_admin, respond
from app.api.openapi import documented
from app.extensions import resources
from app.jobs import QUEUES, base_queue, queue_depth, serving_queues
from app.schemas.admin import QueueDepths, SystemOut

logger = logging.getLogger(__name__)
bp = Blueprint("admin_system", __name__, url_prefix="/api/admin/system")
PING_TIMEOUT_S = 1.0
# the whole ping, however kombu's reply loop goes: in the gevent web (once seen, while a worker
# was busy) it kept draining the reply queue for minutes and the admin's request never ended
PING_BOUND_S = 3.0


def worker_names() -> list[str]:
    """Workers that answer a broadcast ping within a second (none, when the ping outlasts
    PING_BOUND_S: the page says so rather than hang)."""
    try:
        with gevent.Timeout(PING_BOUND_S):
            replies: list[dict[str, Any]] = (
                resources().jobs.celery.control.ping(timeout=PING_TIMEOUT_S) or []
            )
    except gevent.Timeout:
        logger.warning("worker ping took over %.0f s: no workers listed", PING_BOUND_S)
        return []
    except (OperationalError, RedisError, OSError):
        logger.warning("worker ping failed", exc_info=True)
        return []
    return sorted(name for reply in replies for name in reply)


@bp.get("")
@jwt_required()
@documented(summary="Queue depths, workers and Flower (admins only)", response=SystemOut)
def system_status() -> tuple[Response, int]:
    require_admin()
    res = resources()
    depths = dict.fromkeys(QUEUES, 0)  # a model's queues count as their kind's
    for name in serving_queues(res.settings):
        depths[base_queue(name)] += queue_depth(res.redis, name)
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    flower_url = f"{request.scheme}://{host}:{res.settings.flower_port}/"
    return respond(
        SystemOut(queues=QueueDepths(**depths), workers=worker_names(), flower_url=flower_url)
    )
