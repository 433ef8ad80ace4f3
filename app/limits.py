"""Rate limits (flask-limiter, Redis storage): login per IP and per username, messages per
minute per user, uploads per hour per user. Values come from settings; a breach answers 429
with the JSON error envelope and Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from jwt.exceptions import PyJWTError

from app.config import Settings
from app.errors import error_response
from app.extensions import services


def login_username() -> str:
    body: Any = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return f"username:{str(name).strip().lower()[:64]}" if name else f"ip:{get_remote_address()}"


def user_or_ip() -> str:
    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError):
        identity = None
    return f"user:{identity}" if identity else f"ip:{get_remote_address()}"


def setting(name: str) -> Callable[[], str]:
    def value() -> str:
        found: str = getattr(services().settings, name)
        return found

    return value


def _message(what: str) -> Callable[[], str]:
    return lambda: f"too many {what}; slow down and retry after the time in Retry-After"


# endpoint -> (settings field, key function, what is limited)
LIMITS: dict[str, list[tuple[str, Callable[[], str], str]]] = {
    "auth.login": [
        ("rate_limit_login_ip", get_remote_address, "login attempts from this address"),
        ("rate_limit_login_username", login_username, "login attempts for this username"),
    ],
    "messages.send_message": [("rate_limit_messages", user_or_ip, "messages")],
    "messages.regenerate": [("rate_limit_messages", user_or_ip, "messages")],
    "documents.upload": [("rate_limit_uploads", user_or_ip, "uploads")],
}


def init_limits(app: Flask, settings: Settings) -> None:
    """A limiter for this app (its own storage and switch) wrapping the limited views.

    Call it after the blueprints are registered. One Limiter per app, not per module: each
    app's settings choose its Redis and whether limits are on.
    """
    app.config.update(
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 2},
        RATELIMIT_STRATEGY="fixed-window",
        RATELIMIT_KEY_PREFIX="qc-limits",
        RATELIMIT_SWALLOW_ERRORS=True,  # Redis down: serve rather than fail every request
    )
    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    for endpoint, limits in LIMITS.items():
        view: Callable[..., Any] | None = app.view_functions.get(endpoint)
        if view is None:
            continue
        for field, key_func, what in limits:
            view = limiter.limit(
                setting(field), key_func=key_func, scope=field, error_message=_message(what)
            )(view)
        app.view_functions[endpoint] = view

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        retry_after = max(1, int(current.reset_at - time.time())) if current else 60
        response = error_response(
            429,
            "rate_limited",
            f"{exc.description} (limit: {exc.limit.limit})",
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
