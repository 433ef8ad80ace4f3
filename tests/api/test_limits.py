"""Rate limits (flask-limiter on Redis): 429 with Retry-After and the JSON error envelope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.api.rate_limits import client_address, init_limits, rate_limited
from app.config import Settings
from app.enums import Role
from app.extensions import EXTENSION_KEY
from app.models import User
from app.resources import build_resources
from tests.conftest import isolated_settings, register_and_login


def client_with_limits(settings: Settings, **limits: str) -> Iterator[FlaskClient]:
    """A client of an app with rate limits on, at these values (its own Redis database)."""
    app: Flask = create_app(isolated_settings(settings, 8, rate_limits_enabled=True, **limits))
    yield app.test_client()
    app.extensions["queuechat"].db.dispose()


@pytest.fixture()
def limited(settings: Settings) -> Iterator[FlaskClient]:
    yield from client_with_limits(
        settings,
        rate_limit_login_ip="6/minute",
        rate_limit_login_username="2/minute",
        rate_limit_login_account="4/minute",
        rate_limit_messages="2/minute",
    )


def assert_limited(response: object, what: str, window_s: int = 60) -> None:
    assert response.status_code == 429, response.json  # type: ignore[attr-defined]
    assert 0 < int(response.headers["Retry-After"]) <= window_s  # type: ignore[attr-defined]
    error = response.json["error"]  # type: ignore[attr-defined]
    assert error["code"] == "rate_limited"
    assert f"too many {what}" in error["message"]


def login(client: FlaskClient, username: str, password: str, address: str) -> object:
    body = {"username": username, "password": password}
    return client.post("/api/auth/login", json=body, environ_overrides={"REMOTE_ADDR": address})


def test_failed_logins_are_limited_per_username_and_address_and_per_account(
    limited: FlaskClient,
) -> None:
    """Limits: 2 failures per (username, address), 4 per account, 6 per address, a minute."""
    register_and_login(limited, "alice")  # a good login uses up nothing
    right, wrong = "correct horse battery", "not her password"
    for _ in range(2):
        assert login(limited, "alice", wrong, "10.0.0.1").status_code == 401
    assert_limited(login(limited, "alice", wrong, "10.0.0.1"), "failed logins for this username")
    assert_limited(login(limited, "alice", right, "10.0.0.1"), "failed logins for this username")
    # the guesser's address is stopped, the owner's is not
    assert login(limited, "alice", right, "10.0.0.2").status_code == 200
    for _ in range(2):
        assert login(limited, "alice", wrong, "10.0.0.3").status_code == 401
    # 4 failures for alice from anywhere: the softer, account-wide ceiling
    assert_limited(login(limited, "alice", wrong, "10.0.0.4"), "failed logins for this account")
    # one address guessing many usernames
    for name in ("bob", "carol", "dave", "erin", "frank", "grace"):
        assert login(limited, name, "x", "10.0.0.9").status_code == 401
    assert_limited(login(limited, "heidi", "x", "10.0.0.9"), "failed logins from this address")
    # the other limits are untouched: registering still works
    assert (
        limited.post(
            "/api/auth/register", json={"username": "erin", "password": "long enough"}
        ).status_code
        == 201
    )


def test_forwarded_addresses_count_only_behind_trusted_proxies(settings: Settings) -> None:
    for proxies, separate in ((0, False), (1, True)):
        app = create_app(
            isolated_settings(
                settings,
                8,
                rate_limits_enabled=True,
                rate_limit_login_ip="1/minute",
                trusted_proxies=proxies,
            )
        )
        client = app.test_client()
        body = {"username": "nobody", "password": "x"}
        first = client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": "1.1.1.1"})
        second = client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": "2.2.2.2"})
        assert first.status_code == 401
        # behind nginx (1 trusted hop) each client has its own bucket; with none, a forged
        # header changes nothing
        assert second.status_code == (401 if separate else 429), (proxies, second.json)
        app.extensions["queuechat"].db.dispose()


def test_messages_are_limited_per_user(limited: FlaskClient, settings: Settings) -> None:
    first = register_and_login(limited)
    chats = [limited.post("/api/sessions", json={}, headers=first).json["id"] for _ in range(3)]
    for chat in chats[:2]:
        sent = limited.post(f"/api/sessions/{chat}/messages", json={"content": "hi"}, headers=first)
        assert sent.status_code == 202
    over = limited.post(f"/api/sessions/{chats[2]}/messages", json={"content": "hi"}, headers=first)
    assert_limited(over, "messages")
    second = register_and_login(limited)
    chat = limited.post("/api/sessions", json={}, headers=second).json["id"]
    sent = limited.post(f"/api/sessions/{chat}/messages", json={"content": "hi"}, headers=second)
    assert sent.status_code == 202


def test_uploads_are_limited_per_user(settings: Settings) -> None:
    app: Flask = create_app(
        isolated_settings(settings, 8, rate_limits_enabled=True, rate_limit_uploads="2/hour")
    )
    client = app.test_client()
    headers = register_and_login(client)
    with app.extensions["queuechat"].db.session() as db:
        user = db.scalar(select(User).where(User.username == headers["X-Username"]))
        assert user is not None
        user.role = Role.ADMIN
    for _ in range(2):  # counted even when the upload itself is refused (no multipart body)
        assert client.post("/api/documents", data={}, headers=headers).status_code == 415
    assert_limited(client.post("/api/documents", data={}, headers=headers), "uploads", 3600)
    other = register_and_login(client)
    assert client.post("/api/documents", data={}, headers=other).status_code == 403
    app.extensions["queuechat"].db.dispose()


def test_a_limit_is_declared_on_its_view_and_follows_it(settings: Settings) -> None:
    """The limit lives on the view, so renaming or moving the view keeps it."""
    limited_settings = isolated_settings(
        settings, 8, rate_limits_enabled=True, rate_limit_uploads="1/minute"
    )
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = build_resources(limited_settings)
    bp = Blueprint(f"renamed_{uuid.uuid4().hex}", __name__)

    @bp.post("/anything")
    @rate_limited("rate_limit_uploads", by=client_address, what="things")
    def any_name_at_all() -> dict[str, bool]:
        return {"ok": True}

    app.register_blueprint(bp)
    init_limits(app, limited_settings)
    client = app.test_client()
    assert client.post("/anything").json == {"ok": True}
    assert_limited(client.post("/anything"), "things")
    app.extensions[EXTENSION_KEY].db.dispose()


def test_a_limit_must_name_a_setting() -> None:
    with pytest.raises(ValueError, match="no setting named 'rate_limit_typo'"):
        rate_limited("rate_limit_typo", by=client_address, what="typos")


@pytest.fixture()
def costly_limited(settings: Settings) -> Iterator[FlaskClient]:
    yield from client_with_limits(
        settings,
        rate_limit_register="3/minute",
        rate_limit_messages="1/minute",
        rate_limit_embeddings="1/minute",
    )


def test_registering_is_limited_per_address(costly_limited: FlaskClient) -> None:
    for _ in range(3):
        register_and_login(costly_limited)
    body = {"username": "onetoomany", "password": "correct horse battery"}
    assert_limited(
        costly_limited.post("/api/auth/register", json=body), "accounts from this address"
    )


def test_the_openai_api_is_limited_per_key(costly_limited: FlaskClient) -> None:
    headers = register_and_login(costly_limited)
    key = costly_limited.post("/api/keys", json={"name": "k"}, headers=headers).json["key"]
    by_key = {"Authorization": f"Bearer {key}"}
    body = {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}
    assert costly_limited.post("/v1/chat/completions", json=body, headers=by_key).status_code == 404
    assert_limited(
        costly_limited.post("/v1/chat/completions", json=body, headers=by_key), "completions"
    )
    embed = {"model": "no-such-model", "input": "hi"}
    assert costly_limited.post("/v1/embeddings", json=embed, headers=by_key).status_code == 404
    assert_limited(
        costly_limited.post("/v1/embeddings", json=embed, headers=by_key), "embedding requests"
    )
    # another key of another user has its own budget
    other = register_and_login(costly_limited)
    other_key = costly_limited.post("/api/keys", json={"name": "k"}, headers=other).json["key"]
    response = costly_limited.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {other_key}"}
    )
    assert response.status_code == 404


def test_one_embeddings_call_is_bounded_in_characters(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    model = client.get("/v1/models", headers=auth_headers).json["data"][1]["id"]
    texts = ["x" * 8000] * 26  # each within MAX_MESSAGE_CHARS, 208,000 in all
    response = client.post(
        "/v1/embeddings", json={"model": model, "input": texts}, headers=auth_headers
    )
    assert response.status_code == 422
    assert "200000 characters in all" in response.json["error"]["message"]
