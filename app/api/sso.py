"""OpenID Connect sign-in (Authlib): discovery, the code flow with PKCE, and a one-time code
that the web UI trades for the usual token pair. Off (404) unless OIDC_ISSUER and
OIDC_CLIENT_ID are set."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import urlencode

import redis
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Blueprint, Flask, Response, current_app, redirect, url_for
from joserfc.errors import JoseError
from requests import RequestException
from werkzeug.wrappers import Response as WerkzeugResponse

from app.api.deps import parse_body, respond
from app.api.openapi import documented
from app.api.tokens import issue_tokens
from app.config import Settings
from app.errors import ApiError, Forbidden, NotFound
from app.events import publish_account_notice
from app.extensions import EXTENSION_KEY, get_db, resources
from app.models import User
from app.redis_keys import oidc_state_key
from app.schemas.auth import SsoExchange, TokenPair
from app.services.ownership import user_or_404
from app.services.sso import issue_sso_code, redeem_sso_code, sso_user

logger = logging.getLogger(__name__)
bp = Blueprint("sso", __name__, url_prefix="/api/auth/oidc")
OAUTH_KEY = "queuechat_oidc"
SIGN_IN_TTL_S = 600  # a sign-in left at the provider's form longer than this starts over
PROVIDER = "oidc"


def init_sso(app: Flask, settings: Settings) -> None:
    """Registers the provider when configured; its metadata is discovered at first use."""
    # a sign-in in progress is named in Flask's signed session cookie (its data in Redis):
    # the provider's answer is taken only from the browser that asked for it
    key = hmac.new(settings.jwt_secret().encode(), b"flask-session", hashlib.sha256).hexdigest()
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME="qc_sso",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the provider's redirect back is a top-level GET
        SESSION_COOKIE_SECURE=settings.oidc_redirect_url.startswith("https:"),
    )
    if not settings.oidc_enabled:
        return
    oauth = OAuth(app, cache=SignInState(app.extensions[EXTENSION_KEY].redis))
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "default_timeout": settings.oidc_timeout_s,
        },
    )
    app.extensions[OAUTH_KEY] = oauth


class SignInState:
    """Authlib's store for a sign-in in progress: state, nonce and PKCE verifier stay in Redis
    (the cookie only names them), so the verifier never reaches the browser."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, key: str) -> str | None:
        value = self.client.get(oidc_state_key(key))
        return value.decode() if isinstance(value, bytes) else None

    def set(self, key: str, value: str, expires: int | None = None) -> None:
        self.client.set(oidc_state_key(key), value, ex=min(expires or SIGN_IN_TTL_S, SIGN_IN_TTL_S))

    def delete(self, key: str) -> None:
        self.client.delete(oidc_state_key(key))


def provider() -> FlaskOAuth2App:
    oauth: OAuth | None = current_app.extensions.get(OAUTH_KEY)
    if oauth is None:
        raise NotFound("single sign-on is not configured")
    client: FlaskOAuth2App = oauth.create_client(PROVIDER)
    return client


class SignInRefused(ApiError, status=400, code="sso_refused"):
    """The provider's answer did not prove an identity (wrong state, audience, signature...)."""


@bp.get("/login")
@documented(summary="Start single sign-on: redirects to the provider", status=302, auth=False)
def login() -> WerkzeugResponse:
    settings = resources().settings
    callback = settings.oidc_redirect_url or url_for("sso.callback", _external=True)
    try:
        answer: WerkzeugResponse = provider().authorize_redirect(callback)
    except (RequestException, ValueError, KeyError) as exc:  # discovery failed
        logger.warning("OpenID Connect discovery failed: %s", exc)
        return back_to_login({"sso_error": "provider_unreachable"})
    return answer


@bp.get("/callback")
@documented(
    summary="The provider's redirect back: to the web UI with a one-time code (or an error)",
    status=302,
    auth=False,
)
def callback() -> WerkzeugResponse:
    client = provider()
    try:
        claims = verified_claims(client)
        user, role_changed = sso_user(get_db(), resources().settings, claims)
    except SignInRefused as exc:
        logger.warning("single sign-on refused: %s", exc.message)
        return back_to_login({"sso_error": exc.message})
    except ApiError as exc:  # a disabled account
        return back_to_login({"sso_error": exc.code})
    if role_changed:
        publish_account_notice(resources().redis, user.id, "role_changed")
    code = issue_sso_code(resources().redis, user.id)
    # in the fragment: never sent to a server, so never in a proxy's log or a Referer header
    return redirect("/login#" + urlencode({"sso_code": code}), code=302)


def verified_claims(client: FlaskOAuth2App) -> dict[str, Any]:
    """The ID token's claims once state, PKCE, signature, issuer, audience, nonce and expiry
    are checked; SignInRefused names the check that failed."""
    client_id = resources().settings.oidc_client_id
    try:
        metadata = client.load_server_metadata()
        options = {
            "iss": {"essential": True, "values": [metadata["issuer"]]},
            # this client alone: an ID token also meant for others is refused
            "aud": {"essential": True, "validate": lambda _c, aud: aud in (client_id, [client_id])},
        }
        token = client.authorize_access_token(claims_options=options)
    except MismatchingStateError as exc:
        raise SignInRefused("state_mismatch") from exc
    except OAuthError as exc:
        raise SignInRefused(f"provider_error:{exc.error}") from exc
    except JoseError as exc:
        raise SignInRefused(f"invalid_id_token:{exc.error}") from exc
    except (RequestException, ValueError, KeyError) as exc:
        raise SignInRefused("provider_unreachable") from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefused("invalid_id_token:missing")
    return dict(claims)


def back_to_login(query: dict[str, str]) -> WerkzeugResponse:
    return redirect("/login?" + urlencode(query), code=302)


@bp.post("/exchange")
@documented(
    summary="Trade the one-time code of a finished sign-in for tokens",
    body=SsoExchange,
    response=TokenPair,
    auth=False,
)
def exchange() -> tuple[Response, int]:
    body = parse_body(SsoExchange)
    user: User = user_or_404(get_db(), redeem_sso_code(resources().redis, body.code))
    if not user.active:
        raise Forbidden("this account is disabled")
    access, refresh = issue_tokens(user)
    return respond(TokenPair(access_token=access, refresh_token=refresh))
