"""One JSON error envelope for every failure: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A domain error with the HTTP status it maps to; subclasses name theirs in the class line."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int, code: str) -> None:
        super().__init_subclass__()
        cls.status, cls.code = status, code

    def __init__(self, message: str, *, details: Any = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.param = param  # the request parameter at fault (OpenAI clients read error.param)


class MalformedJson(ApiError, status=400, code="malformed_json"):
    """The body is not JSON at all."""


class MalformedMultipart(ApiError, status=400, code="malformed_multipart"):
    """An upload whose multipart body cannot be parsed."""


class UnsupportedParameter(ApiError, status=400, code="unsupported_parameter"):
    """A parameter (or a part of one, such as a JSON Schema keyword) the server does not
    implement: refused by name rather than silently ignored."""


class Unauthorized(ApiError, status=401, code="unauthorized"):
    """No usable credentials."""


class Forbidden(ApiError, status=403, code="forbidden"):
    """Credentials, but not for this."""


class NotFound(ApiError, status=404, code="not_found"):
    """Missing, or another user's (the two are never told apart)."""


class Conflict(ApiError, status=409, code="conflict"):
    """The request collides with the row's state (an open reply, a taken name)."""


class UploadTooLarge(ApiError, status=413, code="too_large"):
    """A file over its size limit."""


class UnsupportedMediaType(ApiError, status=415, code="unsupported_media_type"):
    """A body of the wrong type: not JSON, not multipart, not JSONL."""


class UnsupportedDocument(ApiError, status=415, code="unsupported_document"):
    """A file whose type or content is not one the knowledge base takes."""


class InvalidInput(ApiError, status=422, code="invalid_input"):
    """Well-formed, but a field is out of bounds or missing."""


class ContentBlocked(ApiError, status=422, code="content_blocked"):
    """The content policy does not allow this text (the message is the policy's)."""


class EmptyDocument(ApiError, status=422, code="empty_document"):
    """A file with nothing in it."""


class TooManyRequests(ApiError, status=429, code="too_many_requests"):
    """Over a per-user cap or a rate limit; the client should retry after ``retry_after`` s."""

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class GenerationFailed(ApiError, status=502, code="generation_failed"):
    """A worker took the job and failed it."""


class ServiceUnavailable(ApiError, status=503, code="unavailable"):
    """The job queue or a store is down; nothing was lost."""


class GatewayTimeout(ApiError, status=504, code="timeout"):
    """No worker answered within the wait limit."""


def error_response(
    status: int, code: str, message: str, details: Any = None, param: str | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if param is not None:
        body["param"] = param
    response = jsonify({"error": body})
    response.status_code = status
    return response


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.details, exc.param)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(status, code, exc.description or exc.name)
        # the exception's own headers (405's Allow, 401's WWW-Authenticate), not its HTML type
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(RedisError)
    def handle_redis_down(exc: RedisError) -> Response:
        logger.warning("Redis is unreachable: %s", exc)
        return error_response(503, "unavailable", "the queue is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError) -> Response:
        """A dropped or unreachable database (a restart, pg_terminate_backend, a failover, a
        locked SQLite file) is the service being away for a moment: 503. The pool has
        already discarded the dead connection, so the next request gets a fresh one."""
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            logger.warning("the database is unavailable: %s", exc.orig)
            return error_response(
                503, "unavailable", "the database is unavailable; try again shortly"
            )
        return handle_unexpected(exc)
