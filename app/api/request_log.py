"""Every request gets a request id (the client's X-Request-ID when it is a plain token, else a new
one), returned in the response and bound to every log line the request causes, with the user
once known; one line per request says what was asked and how it ended (never a body)."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from app.logs import bind, clear, request_id_from

logger = logging.getLogger("app.requests")
REQUEST_ID_HEADER = "X-Request-ID"
# probes and scrapes every few seconds: logged at DEBUG only
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def init_request_log(app: Flask) -> None:
    @app.before_request
    def start_request_context() -> None:
        clear()  # a worker thread or greenlet may have served another request before
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_log_started = time.perf_counter()
        bind(request_id=g.request_id)

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:  # a request that failed before the context was set
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        started = g.get("request_log_started", time.perf_counter())
        logger.log(
            logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
            "%s %s -> %d (%.1f ms)",
            request.method,
            route,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @app.teardown_request
    def end_request_context(_error: BaseException | None) -> None:
        clear()
