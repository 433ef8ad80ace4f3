"""Flower with QueueChat's log lines: `python -m workers.flower --address=HOST --port=PORT`
(any other Flower option passes through)."""

from __future__ import annotations

import sys

from app.config import get_settings
from app.logs import configure_logging
from workers import celery


def main(argv: list[str]) -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level, service="flower")
    # --logging=none: tornado adds no handler of its own; its lines reach the one set up here
    celery.start(["flower", "--logging=none", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
