"""The one enqueue-failure path: send the job for committed rows, or fail them visibly and 503."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable

logger = logging.getLogger(__name__)
QUEUE_UNAVAILABLE = "the job queue is unavailable"


def send_or_fail(
    db: Session, send: Callable[[], None], mark_failed: Callable[[str], None], what: str
) -> None:
    """Runs ``send``; if the broker refuses, ``mark_failed(reason)`` is committed and 503 raised.

    The rows are committed before the send, so a job never names a row that does not exist,
    and a row whose job could not be sent never stays queued forever.
    """
    try:
        send()
    except Exception as exc:
        logger.exception("could not enqueue %s", what)
        mark_failed(QUEUE_UNAVAILABLE)
        db.commit()
        raise ServiceUnavailable(f"{QUEUE_UNAVAILABLE}; try again shortly") from exc
