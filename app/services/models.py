"""Which model a request generates with: one the operator lists (``MODELS``; the default
first), refused with 503 while no live inference worker serves it.

A worker announces the models it serves in its presence (workers/inference/presence.py).
While no inference worker is live at all (the first start, a restart), every listed model is
served: the queue holds the work until a worker takes it, which is what the queue is for.
Once workers are up, a model none of them serves would wait for ever, so it is refused.
"""

from __future__ import annotations

import logging

import redis

from app.errors import NotFound, ServiceUnavailable
from app.resources import Resources
from app.services.routing import live_workers

logger = logging.getLogger(__name__)


def served_models(res: Resources) -> list[str]:
    """The listed models a live worker serves (every listed one while none is live)."""
    names = res.settings.model_names
    try:
        live = live_workers(res.redis)
    except redis.RedisError:
        logger.warning("cannot read the workers' presence; every model is offered", exc_info=True)
        return names
    if not live:
        return names
    served = {model for presence in live for model in presence.models}
    return [name for name in names if name in served]


def known_model(res: Resources, name: str | None, where: str = "model") -> str:
    """A listed model's name (None: the default), else 404 naming the listed ones."""
    names = res.settings.model_names
    model = name or names[0]
    if model not in names:
        raise NotFound(f"{where} {model!r} does not exist; this server serves {names}")
    return model


def require_model(res: Resources, name: str | None, where: str = "model") -> str:
    """A listed model a live worker serves (None: the default), else 404 or 503."""
    model = known_model(res, name, where)
    if model not in served_models(res):
        raise ServiceUnavailable(
            f"no inference worker serves {where} {model!r} now; try again later or choose "
            "another model (see /v1/models)"
        )
    return model
