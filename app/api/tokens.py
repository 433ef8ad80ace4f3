"""JWTs: issuing (a refresh token and an access token naming it), checking outside a request,
and the flask-jwt-extended loaders (revocation, user lookup, error envelopes)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jti
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy.orm import Session

from app.errors import error_response
from app.extensions import get_db, jwt
from app.logs import bind
from app.models import User
from app.services.accounts import token_subject, usable


def issue_tokens(user: User) -> tuple[str, str]:
    """A refresh token and an access token that names it, so logout can revoke both."""
    refresh = create_refresh_token(identity=str(user.id))
    return access_for_refresh(user, str(get_jti(refresh))), refresh


def access_for_refresh(user: User, refresh_jti: str) -> str:
    return str(create_access_token(identity=str(user.id), additional_claims={"rjti": refresh_jti}))


def access_claims(token: str | None) -> dict[str, Any] | None:
    """The claims of a well-signed, unexpired access token (outside a request: WebSocket auth);
    None for anything else. Revocation and the account are checked by ``token_user``."""
    if not token:
        return None
    try:
        claims: dict[str, Any] = decode_token(token)
    except (PyJWTError, JWTExtendedException):
        return None
    return claims if claims.get("type") == "access" else None


def token_user(db: Session, claims: dict[str, Any]) -> User | None:
    """The active account of unrevoked claims, in one query; None otherwise."""
    user, revoked = token_subject(db, claims)
    return None if revoked else usable(user)


def register_jwt_handlers(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def check_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        """Loads the user with the same query, for ``load_user`` below."""
        g.token_user, revoked = token_subject(get_db(), payload)
        return revoked  # no user: load_user answers 401 for it

    @jwt.user_lookup_loader
    def load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        if "token_user" in g:
            user = usable(g.pop("token_user"))
        else:
            user = usable(get_db().get(User, int(payload["sub"])))
        if user is not None:
            bind(user_id=user.id)
        return user

    def unauthorized(message: str) -> Response:
        return error_response(401, "unauthorized", message)

    jwt.unauthorized_loader(lambda reason: unauthorized("missing or malformed token"))
    jwt.invalid_token_loader(lambda reason: unauthorized("invalid token"))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("token expired"))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("token revoked"))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("fresh token required"))
    jwt.user_lookup_error_loader(lambda _h, payload: unauthorized(account_problem(payload)))


def account_problem(claims: dict[str, Any]) -> str:
    """Why a well-signed, unrevoked token names no usable account: said to its holder (it is
    their own account), so that the tab can tell them why it signed out."""
    user = get_db().get(User, int(claims["sub"]))
    return "this account no longer exists" if user is None else "this account was deactivated"
