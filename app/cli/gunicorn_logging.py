"""gunicorn's own log lines (master and workers) in QueueChat's format:
`gunicorn --logger-class app.cli.gunicorn_logging.StructuredLogger ...`."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from app.config import get_settings
from app.logs import configure_logging


class StructuredLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        settings = get_settings()
        configure_logging(settings.log_format, settings.log_level, service="web")
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True  # to the root handler configured above
