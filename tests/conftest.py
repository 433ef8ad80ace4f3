"""Fixtures: real Redis, SQLite and PostgreSQL, a live web server and a real Celery worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.enums import Role
from app.migrate import upgrade
from app.models import User
from app.services.accounts import hash_password
from scripts.fetch_model import fetch
from testkit.oidc import OidcProvider, oidc_provider
from testkit.processes import (
    LiveServer,
    WorkerProcess,
    chroma_server,
    postgres_database,
    redis_server,
)

# What a user runs: a dead worker's job must be taken up by the lease and the reaper, never by
# waiting out the broker's visibility timeout (the crash tests use this value, not a short one).
USER_DEFAULT_VISIBILITY = Settings.model_fields["visibility_timeout_s"].default
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma") / "data") as url:
        yield url


@pytest.fixture(scope="session")
def model_path() -> Path:
    return fetch()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    with postgres_database() as url:
        yield url


def make_settings(
    var_dir: Path, database_url: str, redis_url: str, model_path: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "database_url": database_url,
        "redis_url": redis_url,
        "model_path": model_path,
        "n_threads": 2,
        "n_ctx": 2048,
        "jwt_secret_key": "test-secret-" + uuid.uuid4().hex,
        "registration": "open",
        "visibility_timeout_s": 30,
        "default_temperature": 0.0,
        "rate_limits_enabled": False,  # tests/api/test_limits.py turns them on
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    redis_url: str,
    model_path: Path,
    chroma_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    upgrade(database_url)
    redis_lib.Redis.from_url(redis_url).flushdb()
    return make_settings(
        tmp_path_factory.mktemp("var"),
        database_url,
        redis_url,
        model_path,
        chroma_url=chroma_url,
        chroma_collection=f"chunks-{uuid.uuid4().hex}",
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings)
    yield flask_app
    flask_app.extensions["queuechat"].db.dispose()


def isolated_settings(settings: Settings, redis_db: int, **overrides: Any) -> Settings:
    """Same database, another Redis database: no session worker sees these jobs."""
    base, session_db = settings.redis_url.rsplit("/", 1)
    assert str(redis_db) != session_db, "the session's Redis database: its worker takes the jobs"
    isolated = settings.model_copy(update={"redis_url": f"{base}/{redis_db}", **overrides})
    redis_lib.Redis.from_url(isolated.redis_url).flushdb()
    return isolated


@pytest.fixture()
def idle_app(settings: Settings) -> Iterator[Flask]:
    """The app with a queue that no worker consumes: replies stay queued."""
    flask_app = create_app(isolated_settings(settings, 11))
    yield flask_app
    flask_app.extensions["queuechat"].db.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def redis(settings: Settings) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(settings.redis_url)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ingest_worker(settings: Settings) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(settings, queues="ingest")
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def celery_worker(settings: Settings) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(settings, queues="inference,batch")
    yield worker
    worker.stop()


def register_and_login(
    client: FlaskClient, username: str | None = None, password: str = "correct horse battery"
) -> dict[str, str]:
    username = username or f"user{uuid.uuid4().hex[:8]}"
    response = client.post("/api/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.json
    tokens = client.post("/api/auth/login", json={"username": username, "password": password}).json
    assert tokens is not None
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "X-Refresh": tokens["refresh_token"],
        "X-Username": username,
    }


@pytest.fixture()
def auth_headers(client: FlaskClient) -> dict[str, str]:
    return register_and_login(client)


@pytest.fixture()
def admin_headers(app: Flask, client: FlaskClient) -> dict[str, str]:
    username = f"admin{uuid.uuid4().hex[:6]}"
    with app.extensions["queuechat"].db.session() as db:
        db.add(
            User(username=username, password_hash=hash_password("admin password"), role=Role.ADMIN)
        )
    tokens = client.post(
        "/api/auth/login", json={"username": username, "password": "admin password"}
    ).json
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture()
def other_headers(client: FlaskClient) -> dict[str, str]:
    return register_and_login(client)


@pytest.fixture()
def chat_id(client: FlaskClient, auth_headers: dict[str, str]) -> int:
    response = client.post("/api/sessions", json={"title": "test chat"}, headers=auth_headers)
    assert response.status_code == 201
    return int(response.json["id"])  # type: ignore[index]


@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A real OpenID Connect provider (oidc-provider-mock) on a free local port."""
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider
