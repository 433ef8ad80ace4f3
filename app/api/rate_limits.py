"""HTTP rate limits (flask-limiter, Redis storage), declared on the views they limit:

    @bp.post("/login")
    @rate_limited("rate_limit_login_ip", by=client_address, what="login attempts ...")

Values come from settings; a breach answers 429 with the JSON error envelope and Retry-After.
Per-user caps on open work are another thing: app/services/work_caps.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from jwt.exceptions import PyJWTError

from app.api.deps import bearer_token
from app.config import Settings
from app.errors import error_response
from app.extensions import resources
from app.models import account_key
from app.redis_keys import RATE_LIMIT_PREFIX
from app.services.accounts import API_KEY_PREFIX, hash_api_key

F = TypeVar("F", bound=Callable[..., Any])
LIMITS_ATTRIBUTE = "__rate_limits__"
client_address = get_remote_address


@dataclass(frozen=True)
class RateLimit:
    setting: str  # the Settings field holding the limit, e.g. "10/minute"
    key: Callable[[], str]
    what: str  # what is limited, for the 429 message
    counts: Callable[[Response], bool] | None = None  # which answers count (None: every one)


def _login_name() -> str | None:
    body: Any = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return account_key(str(name))[:128] if name else None


def login_username() -> str:
    """One username from one address: a stranger elsewhere cannot lock its owner out."""
    name = _login_name()
    address = get_remote_address()
    return f"username:{name}|ip:{address}" if name else f"ip:{address}"


def login_account() -> str:
    """One username from anywhere: the softer ceiling against a spread-out guessing attack."""
    name = _login_name()
    return f"account:{name}" if name else f"ip:{get_remote_address()}"


def failed_login(response: Response) -> bool:
    return response.status_code in (401, 403)


def user_or_ip() -> str:
    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError):
        identity = None
    return f"user:{identity}" if identity else f"ip:{get_remote_address()}"


def api_caller() -> str:
    """An API key (by its hash, never the key) or else the user or address, for /v1 limits."""
    token = bearer_token()
    if token.startswith(API_KEY_PREFIX):
        return f"key:{hash_api_key(token)[:32]}"
    return user_or_ip()


def rate_limited(
    setting: str,
    *,
    by: Callable[[], str],
    what: str,
    counts: Callable[[Response], bool] | None = None,
) -> Callable[[F], F]:
    """Declares a limit on a view; ``init_limits`` applies it. Place it under the route.

    ``counts`` picks the answers that use up the limit (e.g. failed logins only).
    """
    if setting not in Settings.model_fields:
        raise ValueError(f"no setting named {setting!r} holds a rate limit")

    def declare(view: F) -> F:
        # decorators run bottom-up: prepending keeps the limits in the order they are written
        declared: list[RateLimit] = getattr(view, LIMITS_ATTRIBUTE, [])
        setattr(view, LIMITS_ATTRIBUTE, [RateLimit(setting, by, what, counts), *declared])
        return view

    return declare


def declared_limits(view: Callable[..., Any]) -> list[RateLimit]:
    found: list[RateLimit] = getattr(view, LIMITS_ATTRIBUTE, [])
    return found


def _setting_value(name: str) -> Callable[[], str]:
    def value() -> str:
        found: str = getattr(resources().settings, name)
        return found

    return value


def _message(what: str) -> Callable[[], str]:
    return lambda: f"too many {what}; slow down and retry after the time in Retry-After"


def init_limits(app: Flask, settings: Settings) -> None:
    """A limiter for this app (its own storage and switch) wrapping every view that declares one.

    Call it after the blueprints are registered. One Limiter per app, not per module: each
    app's settings choose its Redis and whether limits are on.
    """
    app.config.update(
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 2},
        RATELIMIT_STRATEGY="fixed-window",
        RATELIMIT_KEY_PREFIX=RATE_LIMIT_PREFIX,
        RATELIMIT_SWALLOW_ERRORS=True,  # Redis down: serve rather than fail every request
    )
    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    for endpoint, view in list(app.view_functions.items()):
        limited: Callable[..., Any] = view
        for limit in declared_limits(view):
            limited = limiter.limit(
                _setting_value(limit.setting),
                key_func=limit.key,
                scope=limit.setting,
                deduct_when=limit.counts,
                error_message=_message(limit.what),
            )(limited)
        app.view_functions[endpoint] = limited

    @app.errorhandler(RateLimitExceeded)
    def rate_limited_response(exc: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        retry_after = max(1, int(current.reset_at - time.time())) if current else 60
        response = error_response(
            429, "rate_limited", f"{exc.description} (limit: {exc.limit.limit})"
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
