"""QueueChat web application: REST API + WebSocket relay. Never loads a model."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Flask
from sqlalchemy import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api.deps import RowIdConverter
from app.api.frontend import serve_assets
from app.api.headers import add_security_headers
from app.api.multipart import ApiRequest
from app.api.rate_limits import init_limits
from app.api.request_log import init_request_log
from app.api.sso import init_sso
from app.api.tokens import register_jwt_handlers
from app.config import Settings, get_settings
from app.errors import register_error_handlers
from app.extensions import EXTENSION_KEY, close_db, jwt
from app.resources import build_resources


def create_app(config: Settings | None = None) -> Flask:
    settings = config or get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.request_class = ApiRequest  # broken multipart bodies are errors, not empty forms
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret(),
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        JWT_TOKEN_LOCATION=["headers"],
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SOCK_SERVER_OPTIONS={
            "ping_interval": settings.ws_ping_interval_s,
            "max_message_size": 4096,
        },
        JSON_SORT_KEYS=False,
    )
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.extensions[EXTENSION_KEY] = build_resources(settings)
    jwt.init_app(app)
    init_request_log(app)  # first: every later hook and view logs with the request id
    register_error_handlers(app)
    add_security_headers(app)
    register_jwt_handlers(app)
    app.teardown_appcontext(close_db)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    init_sso(app, settings)
    init_limits(app, settings)  # after every blueprint: it wraps the views that declare limits
    serve_assets(app)
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    logging.getLogger(__name__).debug(
        "app created with database %s",
        make_url(settings.sqlalchemy_url).render_as_string(hide_password=True),
    )
    return app


def blueprints() -> list[Blueprint]:
    """Every REST, WebSocket and UI blueprint (imported here: the views need the extensions)."""
    from app.api import (
        audit_log,
        auth,
        batches,
        budgets,
        catalog,
        chat_files,
        documents,
        feedback,
        frontend,
        health,
        keys,
        messages,
        meta,
        prometheus,
        search,
        sessions,
        shares,
        sso,
        system,
        templates,
        usage,
        users,
        v1,
        v1_batches,
        v1_completions,
        v1_files,
    )
    from app.ws import chat

    return [
        auth.bp,
        sso.bp,
        sessions.bp,
        search.bp,
        shares.bp,
        chat_files.bp,
        messages.bp,
        meta.bp,
        chat.bp,
        documents.bp,
        templates.bp,
        frontend.bp,
        users.bp,
        system.bp,
        batches.bp,
        catalog.bp,
        keys.bp,
        feedback.bp,
        usage.bp,
        budgets.bp,
        audit_log.bp,
        v1.bp,
        v1_completions.bp,
        v1_files.bp,
        v1_batches.bp,
        health.bp,
        prometheus.bp,
    ]
