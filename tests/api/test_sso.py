"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock on a local port):
discovery, the code flow with PKCE, accounts created on first sign-in, the admin group claim,
and answers that are refused (a wrong state, an ID token for another audience)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.config import Settings
from app.models import User
from testkit.oidc import OidcProvider

CLIENT_ID = "queuechat"
ADMIN_GROUP = "queuechat-admins"


@pytest.fixture(scope="module")
def sso_app(settings: Settings, oidc: OidcProvider) -> Iterator[Flask]:
    configured = settings.model_copy(
        update={
            "oidc_issuer": oidc.url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": "provider secret",
            "oidc_admin_group": ADMIN_GROUP,
            "oidc_display_name": "Test IdP",
        }
    )
    flask_app = create_app(configured)
    yield flask_app
    flask_app.extensions["queuechat"].db.dispose()


def start(client: FlaskClient) -> str:
    answer = client.get("/api/auth/oidc/login")
    assert answer.status_code == 302, answer.json
    return answer.headers["Location"]


def finish(client: FlaskClient, callback: str) -> str:
    """The callback's redirect into the web UI."""
    parts = urlsplit(callback)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 302
    return answer.headers["Location"]


def sign_in(client: FlaskClient, oidc: OidcProvider, sub: str, **claims: object) -> str:
    oidc.set_user(sub, {"email": f"{sub}@example.com", **claims})
    return finish(client, oidc.authorize(start(client), sub))


def tokens(client: FlaskClient, landing: str) -> dict[str, str]:
    assert landing.startswith("/login#sso_code="), landing
    code = parse_qs(urlsplit(landing).fragment)["sso_code"][0]
    answer = client.post("/api/auth/oidc/exchange", json={"code": code})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def accounts_of(app: Flask, sub: str) -> int:
    with app.extensions["queuechat"].db.session() as db:
        return int(db.scalar(select(func.count()).where(User.oidc_subject == sub)) or 0)


def test_code_flow_with_pkce_creates_the_account_once(sso_app: Flask, oidc: OidcProvider) -> None:
    client = sso_app.test_client()
    sub = f"alice-{uuid.uuid4().hex[:6]}"
    oidc.set_user(sub, {"email": f"{sub}@example.com", "preferred_username": sub})
    authorization = start(client)
    asked = parse_qs(urlsplit(authorization).query)
    assert authorization.startswith(f"{oidc.url}/oauth2/authorize?")  # found by discovery
    assert asked["client_id"] == [CLIENT_ID] and asked["response_type"] == ["code"]
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) >= 43
    assert asked["state"][0] and asked["nonce"][0]
    # the browser's cookie names the sign-in; its verifier and nonce stay on the server
    cookie = client.get_cookie("qc_sso")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    signer = SecureCookieSessionInterface().get_signing_serializer(sso_app)
    assert signer is not None
    held = json.dumps(signer.loads(cookie.value))
    assert asked["nonce"][0] not in held and "code_verifier" not in held
    callback = oidc.authorize(authorization, sub)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    landing = finish(client, callback)
    assert code in oidc.pkce_verified()  # the provider checked the verifier against the challenge

    me = client.get("/api/auth/me", headers=tokens(client, landing)).json
    assert (me["username"], me["email"], me["role"]) == (sub, f"{sub}@example.com", "user")
    again = client.get("/api/auth/me", headers=tokens(client, sign_in(client, oidc, sub))).json
    assert again["id"] == me["id"] and accounts_of(sso_app, sub) == 1
    # the account has no password: the login form cannot open it
    login = client.post("/api/auth/login", json={"username": sub, "password": "!sso"})
    assert login.status_code == 401


def test_the_one_time_code_works_once(sso_app: Flask, oidc: OidcProvider) -> None:
    client = sso_app.test_client()
    landing = sign_in(client, oidc, f"bob-{uuid.uuid4().hex[:6]}")
    tokens(client, landing)
    code = parse_qs(urlsplit(landing).fragment)["sso_code"][0]
    reused = client.post("/api/auth/oidc/exchange", json={"code": code})
    assert reused.status_code == 401 and reused.json["error"]["code"] == "unauthorized"
    empty = client.post("/api/auth/oidc/exchange", json={"code": ""})
    assert empty.status_code == 422 and empty.json["error"]["code"] == "invalid_input"


def test_the_admin_group_claim_gives_and_takes_the_admin_role(
    sso_app: Flask, oidc: OidcProvider
) -> None:
    client = sso_app.test_client()
    sub = f"carol-{uuid.uuid4().hex[:6]}"
    admin = tokens(client, sign_in(client, oidc, sub, groups=["staff", ADMIN_GROUP]))
    assert client.get("/api/auth/me", headers=admin).json["role"] == "admin"
    assert client.get("/api/admin/users", headers=admin).status_code == 200
    user = tokens(client, sign_in(client, oidc, sub, groups=["staff"]))
    assert client.get("/api/auth/me", headers=user).json["role"] == "user"
    assert client.get("/api/admin/users", headers=user).status_code == 403


def test_a_wrong_state_is_refused(sso_app: Flask, oidc: OidcProvider) -> None:
    client = sso_app.test_client()
    sub = f"mallory-{uuid.uuid4().hex[:6]}"
    oidc.set_user(sub, {"email": f"{sub}@example.com"})
    callback = oidc.authorize(start(client), sub)
    forged = callback.replace("state=", "state=forged")
    assert finish(client, forged) == "/login?sso_error=state_mismatch"
    # an answer brought to another browser (no sign-in started there) is refused the same way
    assert finish(sso_app.test_client(), callback) == "/login?sso_error=state_mismatch"
    assert accounts_of(sso_app, sub) == 0


@pytest.mark.parametrize(
    "audience",
    [{"aud": "another-app"}, {"aud": [CLIENT_ID, "another-app"], "azp": CLIENT_ID}],
    ids=["other", "shared"],
)
def test_an_id_token_for_another_audience_is_refused(
    sso_app: Flask, oidc: OidcProvider, audience: dict[str, object]
) -> None:
    client = sso_app.test_client()
    sub = f"eve-{uuid.uuid4().hex[:6]}"
    landing = sign_in(client, oidc, sub, **audience)
    assert landing.startswith("/login?sso_error=invalid_id_token"), landing
    assert accounts_of(sso_app, sub) == 0


def test_single_sign_on_is_off_when_not_configured(client: FlaskClient) -> None:
    config = client.get("/api/auth/config").json
    assert config["sso_name"] is None and config["sso_login_url"] is None
    for path in ("/api/auth/oidc/login", "/api/auth/oidc/callback?code=x&state=y"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_the_login_page_config_names_the_provider(sso_app: Flask) -> None:
    config = sso_app.test_client().get("/api/auth/config").json
    assert config["sso_name"] == "Test IdP"
    assert config["sso_login_url"] == "/api/auth/oidc/login"
