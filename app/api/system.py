"""Admin: queue depths, live workers and where Flower is, at a glance."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request
from flask_jwt_extended import jwt_required
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.api.admin_schemas import QueueDepths, SystemOut
from app.api.openapi import documented
from app.api.validation import respond
from app.extensions import services
from app.security import require_admin

logger = logging.getLogger(__name__)
bp = Blueprint("admin_system", __name__, url_prefix="/api/admin/system")
QUEUES = ("inference", "batch", "ingest")
# kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x16{step}".
PRIORITY_STEPS = (3, 6, 9)
PING_TIMEOUT_S = 1.0


def queue_depth(name: str) -> int:
    keys = [name, *(f"{name}\x06\x16{step}" for step in PRIORITY_STEPS)]
    pipe = services().redis.pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
    return sum(int(count) for count in pipe.execute())


def worker_names() -> list[str]:
    """Workers that answer a broadcast ping within a second."""
    try:
        replies: list[dict[str, Any]] = (
            services().jobs.celery.control.ping(timeout=PING_TIMEOUT_S) or []
        )
    except (OperationalError, RedisError, OSError):
        logger.warning("worker ping failed", exc_info=True)
        return []
    return sorted(name for reply in replies for name in reply)


@bp.get("")
@jwt_required()
@documented(summary="Queue depths, workers and Flower (admins only)", response=SystemOut)
def system_status() -> tuple[Response, int]:
    require_admin()
    settings = services().settings
    depths = QueueDepths(**{name: queue_depth(name) for name in QUEUES})
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    flower_url = f"{request.scheme}://{host}:{settings.flower_port}/"
    return respond(SystemOut(queues=depths, workers=worker_names(), flower_url=flower_url))
