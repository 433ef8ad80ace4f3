"""Structured logs: one line per event, carrying the context of the work it belongs to.

Code logs as everywhere else (``logging.getLogger(__name__)`` with %-style args); structlog
formats every record, the third-party ones included, as a human-readable line (LOG_FORMAT=console,
the run command's default) or a JSON object (LOG_FORMAT=json, the compose default). The context
(request id, user, message, batch, document, Celery task) lives in contextvars: the web binds it
per request, the job sender copies it into the task's headers, and the worker binds it again
around the task, so one filter (``message_id=12`` or ``request_id=...``) follows a reply across
processes. Nothing here logs a value of a request's body.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["console", "json"]
# The keys that travel from the web process into a worker's task (task headers).
CARRIED_KEYS = ("request_id", "user_id", "message_id", "batch_id", "item_id", "document_id")
CONTEXT_HEADER = "queuechat_log_context"
# A client's X-Request-ID is kept when it is short and plain; anything else gets a fresh one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Chatty third-party loggers: their INFO lines are noise to an operator.
QUIET_LOGGERS = ("httpx", "httpcore", "chromadb", "urllib3", "posthog", "sentence_transformers")


def configure_logging(log_format: LogFormat, level: str = "INFO", service: str = "") -> None:
    """Points the root logger at one structlog-formatted stderr handler (call once per process,
    before it logs; again with other arguments replaces the handler)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        shared.append(_add_service(service))
    renderer: Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        final: list[Processor] = [structlog.processors.format_exc_info, renderer]
    else:
        # plain tracebacks: rich's would print every frame's locals (a message, a password)
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        final = [renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _add_service(service: str) -> Processor:
    def add(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is a plain token, else a new one."""
    if header and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def bind(**values: Any) -> None:
    """Adds to the log context of this thread (or greenlet), for every line it logs next."""
    structlog.contextvars.bind_contextvars(**values)


def clear() -> None:
    structlog.contextvars.clear_contextvars()


def carried_context(**values: Any) -> dict[str, Any]:
    """What a task sent now carries into its worker: the current context and ``values``."""
    context = structlog.contextvars.get_contextvars()
    carried = {key: context[key] for key in CARRIED_KEYS if context.get(key) is not None}
    carried.update((key, value) for key, value in values.items() if value is not None)
    return carried


def bind_carried(headers: Mapping[str, Any] | None) -> None:
    """Binds what a task's headers carried (only the known keys, only plain values)."""
    carried = (headers or {}).get(CONTEXT_HEADER)
    if not isinstance(carried, Mapping):
        return
    bind(
        **{
            key: value
            for key, value in carried.items()
            if key in CARRIED_KEYS and isinstance(value, str | int)
        }
    )
