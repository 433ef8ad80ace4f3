"""Accounts and credentials: passwords (argon2id), revoked tokens, API keys, the first admin."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api_keys_table import ApiKey
from app.db import Database
from app.enums import Role
from app.errors import Conflict, Forbidden, Unauthorized
from app.models import RevokedToken, User, account_key, as_utc, utcnow
from app.offload import off_loop
from app.services.ownership import owned_api_key, user_or_404

API_KEY_PREFIX = "qc-"
SHOWN_PREFIX_CHARS = 10
MAX_API_KEYS_PER_USER = 20
LAST_USED_RESOLUTION = timedelta(minutes=1)
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("queuechat-dummy-password")


def hash_password(password: str) -> str:
    return off_loop(_hasher.hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Checks a password; an unknown user costs the same time as a wrong password."""
    try:
        matches = off_loop(_hasher.verify, password_hash or _DUMMY_HASH, password)
        return matches and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db: Session, username: str, password: str) -> User:
    user = db.scalar(select(User).where(User.username_key == account_key(username)))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("invalid username or password")
    if not user.active:
        raise Forbidden("this account is disabled")
    return user


def register_user(db: Session, username: str, password: str, email: str | None) -> User:
    """A new ordinary account; 409 when the name is taken (also by a concurrent request)."""
    taken = select(func.count()).select_from(User).where(User.username_key == account_key(username))
    if db.scalar(taken):
        raise Conflict("that username is taken")
    user = User(
        username=username, email=email, password_hash=hash_password(password), role=Role.USER
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict("that username is taken") from exc
    return user


def ensure_admin(db: Database, username: str, password: str) -> str | None:
    """Creates the admin when no admin exists; returns the password only if it was generated."""
    with db.session() as session:
        if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
            return None
        generated = None if password else secrets.token_urlsafe(12)
        session.add(
            User(
                username=username,
                password_hash=hash_password(password or str(generated)),
                role=Role.ADMIN,
            )
        )
    return generated


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
    # an access token dies with the refresh token it was minted from (claim "rjti"), so
    # logging out ends every access token /refresh handed out, not only the one shown
    named = [jti for jti in (claims["jti"], claims.get("rjti")) if jti]
    revoked = select(RevokedToken.jti).where(RevokedToken.jti.in_(named)).exists()
    row = db.execute(select(User, revoked).where(User.id == int(claims["sub"]))).one_or_none()
    return (None, False) if row is None else (row[0], bool(row[1]))


def usable(user: User | None) -> User | None:
    return user if user is not None and user.active else None


def hash_api_key(key: str) -> str:
    """SHA-256 suffices: keys are 256-bit random values, not guessable passwords."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(db: Session, owner_id: int, name: str) -> tuple[ApiKey, str]:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        owner_id=owner_id, name=name, prefix=key[:SHOWN_PREFIX_CHARS], key_hash=hash_api_key(key)
    )
    db.add(row)
    return row, key


def user_for_api_key(db: Session, key: str) -> User | None:
    found = api_key_user(db, key)
    return None if found is None else found[1]


def api_key_user(db: Session, key: str) -> tuple[ApiKey, User] | None:
    """The key's row and its active owner (None for an unknown or revoked key)."""
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    user = usable(db.get(User, row.owner_id))
    if user is None:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or now - as_utc(last) > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.commit()
    return row, user


def create_api_key(db: Session, owner_id: int, name: str) -> tuple[ApiKey, str]:
    """A new key for the user (the key itself is returned only now); 409 at the cap."""
    active = db.scalars(
        select(ApiKey.id).where(ApiKey.owner_id == owner_id, ApiKey.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_API_KEYS_PER_USER:
        raise Conflict(f"you have {MAX_API_KEYS_PER_USER} active keys; revoke one first")
    row, key = new_api_key(db, owner_id, name)
    db.commit()
    return row, key


def revoke_api_key(db: Session, owner_id: int, key_id: int) -> ApiKey:
    row = owned_api_key(db, owner_id, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.commit()
    return row


def list_api_keys(db: Session, owner_id: int) -> Sequence[ApiKey]:
    return db.scalars(
        select(ApiKey).where(ApiKey.owner_id == owner_id).order_by(ApiKey.id.desc())
    ).all()


def list_users(db: Session) -> Sequence[User]:
    return db.scalars(select(User).order_by(User.id)).all()


def update_user(
    db: Session, admin_id: int, user_id: int, role: Role | None, active: bool | None
) -> User:
    """An admin changes another account's role or active flag (never demotes themself)."""
    user = user_or_404(db, user_id)
    if user.id == admin_id and (role == Role.USER or active is False):
        raise Conflict("you cannot demote or deactivate your own account")
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    db.commit()
    return user
