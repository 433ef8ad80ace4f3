"""Passwords (argon2id), JWT issuing and revocation, and the JWT loaders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, g
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    current_user,
    decode_token,
    get_jti,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Forbidden, Unauthorized, error_response
from app.extensions import get_db, jwt
from app.models import RevokedToken, Role, User

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("queuechat-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Checks a password; an unknown user costs the same time as a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db: Session, username: str, password: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("invalid username or password")
    if not user.active:
        raise Forbidden("this account is disabled")
    return user


def issue_tokens(user: User) -> tuple[str, str]:
    """A refresh token and an access token that names it, so logout can revoke both."""
    refresh = create_refresh_token(identity=str(user.id))
    return access_for_refresh(user, str(get_jti(refresh))), refresh


def access_for_refresh(user: User, refresh_jti: str) -> str:
    return str(create_access_token(identity=str(user.id), additional_claims={"rjti": refresh_jti}))


def revoke(db: Session, claims: dict[str, Any]) -> None:
    """Revokes the token with these claims and the refresh token it was issued with."""
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    for jti in {claims["jti"], claims.get("rjti")} - {None}:
        if db.get(RevokedToken, jti) is None:
            db.add(RevokedToken(jti=jti, expires_at=expires))
    try:
        db.commit()
    except IntegrityError:  # a concurrent logout revoked it already
        db.rollback()


def token_subject(db: Session, claims: dict[str, Any]) -> tuple[User | None, bool]:
    """The token's user (None if gone) and whether the token is revoked, in one query."""
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == claims["jti"]).exists()
    row = db.execute(select(User, revoked).where(User.id == int(claims["sub"]))).one_or_none()
    return (None, False) if row is None else (row[0], bool(row[1]))


def usable(user: User | None) -> User | None:
    return user if user is not None and user.active else None


def user_for_access_token(db: Session, token: str) -> User | None:
    """Validates an access token outside a request (WebSocket auth); None when unusable."""
    try:
        claims = decode_token(token)
    except (PyJWTError, JWTExtendedException):
        return None
    if claims.get("type") != "access":
        return None
    user, revoked = token_subject(db, claims)
    return None if revoked else usable(user)


def require_admin() -> User:
    user: User = current_user
    if user.role != Role.ADMIN:
        raise Forbidden("administrators only")
    return user


def register_jwt_handlers(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def check_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        """Loads the user with the same query, for ``load_user`` below."""
        g.token_user, revoked = token_subject(get_db(), payload)
        return revoked  # no user: load_user answers 401 for it

    @jwt.user_lookup_loader
    def load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        if "token_user" in g:
            return usable(g.pop("token_user"))
        return usable(get_db().get(User, int(payload["sub"])))

    def unauthorized(message: str) -> Response:
        return error_response(401, "unauthorized", message)

    jwt.unauthorized_loader(lambda reason: unauthorized("missing or malformed token"))
    jwt.invalid_token_loader(lambda reason: unauthorized("invalid token"))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("token expired"))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("token revoked"))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("fresh token required"))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("user not found or disabled"))
