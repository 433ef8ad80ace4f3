"""QueueChat web application: REST API + WebSocket relay. Never loads a model."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from app.config import Settings, get_settings
from app.errors import register_error_handlers
from app.extensions import build_services, close_db, jwt
from app.security import register_jwt_handlers


def create_app(config: Settings | None = None) -> Flask:
    settings = config or get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
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
    app.extensions["queuechat"] = build_services(settings)
    jwt.init_app(app)
    register_error_handlers(app)
    register_jwt_handlers(app)
    app.teardown_appcontext(close_db)

    from app import frontend
    from app.api import auth, documents, messages, meta, sessions, templates
    from app.ws import chat

    for blueprint in (
        auth.bp,
        sessions.bp,
        messages.bp,
        meta.bp,
        chat.bp,
        documents.bp,
        templates.bp,
        frontend.bp,
    ):
        app.register_blueprint(blueprint)
    from app.api import system, users

    app.register_blueprint(users.bp)
    app.register_blueprint(system.bp)
    from app.api import batches, health, keys, metrics, v1
    from app.limits import init_limits

    for blueprint in (batches.bp, keys.bp, v1.bp, health.bp, metrics.bp):
        app.register_blueprint(blueprint)
    init_limits(app, settings)  # after every blueprint: it wraps the limited views
    logging.getLogger(__name__).debug("app created with database %s", settings.sqlalchemy_url)
    return app
