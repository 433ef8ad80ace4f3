from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.enums import Role
from app.models import User
from app.services.accounts import hash_password
from tests.conftest import register_and_login


def bearer(headers: dict[str, str], token_header: str = "Authorization") -> dict[str, str]:
    return {"Authorization": headers[token_header]}


def test_register_login_me(client: FlaskClient) -> None:
    headers = register_and_login(client, "alice_" + "x" * 4)
    me = client.get("/api/auth/me", headers=bearer(headers))
    assert me.status_code == 200
    assert me.json["username"] == "alice_xxxx"
    assert me.json["role"] == "user"
    assert "password_hash" not in me.json


def test_password_is_hashed_with_argon2id(app: Flask, client: FlaskClient) -> None:
    headers = register_and_login(client)
    with app.extensions["queuechat"].db.session() as db:
        user = db.scalar(select(User).where(User.username == headers["X-Username"]))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")


def test_unknown_user_and_wrong_password_get_the_same_error(client: FlaskClient) -> None:
    headers = register_and_login(client)
    wrong = client.post(
        "/api/auth/login", json={"username": headers["X-Username"], "password": "wrong password"}
    )
    unknown = client.post(
        "/api/auth/login", json={"username": "nobody_here", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["message"] == "invalid username or password"


def test_duplicate_username_is_a_conflict(client: FlaskClient) -> None:
    headers = register_and_login(client)
    again = client.post(
        "/api/auth/register", json={"username": headers["X-Username"], "password": "another pass"}
    )
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"


def test_register_rejects_bad_input(client: FlaskClient) -> None:
    cases = [
        {"username": "ab", "password": "long enough"},
        {"username": "has space", "password": "long enough"},
        {"username": "valid_name", "password": "short"},
        {"username": 12345, "password": "long enough"},
        {"username": "valid_name", "password": "long enough", "role": "admin"},
    ]
    for body in cases:
        response = client.post("/api/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json["error"]["code"] == "invalid_input"
        assert response.json["error"]["details"]


def test_refresh_gives_a_working_access_token(client: FlaskClient) -> None:
    headers = register_and_login(client)
    refreshed = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {headers['X-Refresh']}"}
    )
    assert refreshed.status_code == 200
    token = refreshed.json["access_token"]
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    # an access token cannot be used to refresh
    assert client.post("/api/auth/refresh", headers=bearer(headers)).status_code == 401


def test_logout_revokes_access_and_refresh_tokens_across_restart(
    client: FlaskClient, settings: Settings
) -> None:
    headers = register_and_login(client)
    refresh_headers = {"Authorization": f"Bearer {headers['X-Refresh']}"}
    assert client.post("/api/auth/logout", headers=bearer(headers)).status_code == 204
    me = client.get("/api/auth/me", headers=bearer(headers))
    assert me.status_code == 401
    assert me.json["error"]["message"] == "token revoked"
    assert client.post("/api/auth/refresh", headers=refresh_headers).status_code == 401
    restarted = create_app(settings).test_client()  # a new web process, same database
    assert restarted.get("/api/auth/me", headers=bearer(headers)).status_code == 401
    assert restarted.post("/api/auth/refresh", headers=refresh_headers).status_code == 401


def test_logout_ends_every_access_token_minted_by_refresh(client: FlaskClient) -> None:
    headers = register_and_login(client)
    refresh_headers = {"Authorization": f"Bearer {headers['X-Refresh']}"}
    minted = client.post("/api/auth/refresh", headers=refresh_headers).json["access_token"]
    later = {"Authorization": f"Bearer {minted}"}
    assert client.get("/api/auth/me", headers=later).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(headers)).status_code == 204
    assert client.get("/api/auth/me", headers=later).status_code == 401


def test_logout_with_the_refresh_token_ends_the_session(client: FlaskClient) -> None:
    """What the web UI sends: it works even after the access token expired."""
    headers = register_and_login(client)
    refresh_headers = {"Authorization": f"Bearer {headers['X-Refresh']}"}
    minted = client.post("/api/auth/refresh", headers=refresh_headers).json["access_token"]
    assert client.post("/api/auth/logout", headers=refresh_headers).status_code == 204
    assert client.post("/api/auth/refresh", headers=refresh_headers).status_code == 401
    for token in (headers["Authorization"].split()[1], minted):
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401, token


def test_missing_or_garbage_token_is_401_json(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic x"}):
        response = client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"


def test_disabled_user_cannot_log_in_or_use_tokens(app: Flask, client: FlaskClient) -> None:
    headers = register_and_login(client, password="pass word 123")
    with app.extensions["queuechat"].db.session() as db:
        user = db.scalar(select(User).where(User.username == headers["X-Username"]))
        assert user is not None
        user.active = False
    assert client.get("/api/auth/me", headers=bearer(headers)).status_code == 401
    login = client.post(
        "/api/auth/login", json={"username": headers["X-Username"], "password": "pass word 123"}
    )
    assert login.status_code == 403


def test_admin_only_registration(settings: Settings) -> None:
    closed = create_app(settings.model_copy(update={"registration": "admin"})).test_client()
    body = {"username": "newcomer_1", "password": "long enough"}
    denied = closed.post("/api/auth/register", json=body)
    assert denied.status_code == 403
    user_headers = register_and_login(create_app(settings).test_client())
    assert (
        closed.post("/api/auth/register", json=body, headers=bearer(user_headers)).status_code
        == 403
    )
    app = create_app(settings)
    with app.extensions["queuechat"].db.session() as db:
        db.add(
            User(
                username="admin_for_reg",
                password_hash=hash_password("admin pass 1"),
                role=Role.ADMIN,
            )
        )
    admin = closed.post(
        "/api/auth/login", json={"username": "admin_for_reg", "password": "admin pass 1"}
    )
    admin_headers = {"Authorization": f"Bearer {admin.json['access_token']}"}
    created = closed.post("/api/auth/register", json=body, headers=admin_headers)
    assert created.status_code == 201
    assert created.json["username"] == "newcomer_1"


def test_auth_config_says_how_accounts_are_made(settings: Settings) -> None:
    no_sso = {"sso_name": None, "sso_login_url": None}  # tests/api/test_sso.py turns it on
    assert create_app(settings).test_client().get("/api/auth/config").json == {
        "registration": "open",
        **no_sso,
    }
    closed = create_app(settings.model_copy(update={"registration": "admin"})).test_client()
    assert closed.get("/api/auth/config").json == {"registration": "admin", **no_sso}


def test_usernames_differing_only_in_case_or_unicode_form_are_one_account(
    client: FlaskClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    password = "correct horse battery"
    first = client.post("/api/auth/register", json={"username": f"Zoe{tag}", "password": password})
    assert first.status_code == 201, first.json
    fullwidth = "".join(
        chr(ord(c) + 0xFEE0) for c in f"zoe{tag}"
    )  # "ｚｏｅ..." in NFKC is "zoe..."
    for twin in (f"zoe{tag}", f"ZOE{tag}", fullwidth):
        response = client.post("/api/auth/register", json={"username": twin, "password": password})
        assert response.status_code == 409, (twin, response.json)
    login = client.post("/api/auth/login", json={"username": f"ZOE{tag}", "password": password})
    assert login.status_code == 200
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {login.json['access_token']}"}
    )
    assert me.json["username"] == f"Zoe{tag}"  # shown as it was registered


def test_a_deactivated_or_deleted_account_is_told_why_its_tokens_stop(
    app: Flask, client: FlaskClient
) -> None:
    """The holder of a valid token learns why it no longer works (their own account); the tab
    shows it on the sign-in page (frontend/src/api/client.ts)."""
    headers = register_and_login(client)
    refresh = {"Authorization": f"Bearer {headers['X-Refresh']}"}
    with app.extensions["queuechat"].db.session() as db:
        user = db.scalars(select(User).where(User.username == headers["X-Username"])).one()
        user.active = False
    for answer in (client.get("/api/auth/me", headers=headers),
                   client.post("/api/auth/refresh", headers=refresh)):  # fmt: skip
        assert answer.status_code == 401
        assert answer.json["error"] == {
            "code": "unauthorized", "message": "this account was deactivated"
        }  # fmt: skip
    with app.extensions["queuechat"].db.session() as db:
        db.delete(db.scalars(select(User).where(User.username == headers["X-Username"])).one())
    gone = client.post("/api/auth/refresh", headers=refresh)
    assert gone.status_code == 401
    assert gone.json["error"]["message"] == "this account no longer exists"
