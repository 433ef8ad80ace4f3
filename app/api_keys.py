"""API keys for the OpenAI-compatible API: random, shown once, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import g, request
from flask_jwt_extended import current_user, verify_jwt_in_request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.extensions import get_db
from app.models import ApiKey, User, utcnow

KEY_PREFIX = "qc-"
SHOWN_PREFIX_CHARS = 10
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    """SHA-256 suffices: keys are 256-bit random values, not guessable passwords."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(db: Session, owner_id: int, name: str) -> tuple[ApiKey, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        owner_id=owner_id, name=name, prefix=key[:SHOWN_PREFIX_CHARS], key_hash=hash_key(key)
    )
    db.add(row)
    return row, key


def user_for_key(db: Session, key: str) -> User | None:
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    user = db.get(User, row.owner_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or now - _aware(last) > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.commit()
    return user


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def key_or_jwt_user() -> User:
    """The caller by API key (``Bearer qc-...``) or, failing that, by access token."""
    if "api_user" in g:
        found: User = g.api_user
        return found
    token = bearer_token()
    if token.startswith(KEY_PREFIX):
        user = user_for_key(get_db(), token)
        if user is None:
            raise Unauthorized("invalid or revoked API key")
    else:
        verify_jwt_in_request()
        user = current_user
    g.api_user = user
    return user
