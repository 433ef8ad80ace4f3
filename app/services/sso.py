"""Single sign-on accounts: the user an OpenID Connect identity signs in as, created the first
time, with the role its provider's group claim gives it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.enums import Role
from app.errors import Forbidden, Unauthorized
from app.models import User, account_key
from app.redis_keys import sso_code_key

# no password can match: argon2 refuses this hash, so local login is closed to SSO accounts
NO_PASSWORD = "!sso"
SSO_CODE_TTL_S = 60
_NOT_A_NAME_CHARACTER = re.compile(r"[^\w.-]+")


def sso_user(db: Session, settings: Settings, claims: Mapping[str, Any]) -> tuple[User, bool]:
    """The account of a verified ID token's (issuer, subject), created on first sign-in; the
    second value says whether its role changed (its open sockets must then close)."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    found = select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    role = claimed_role(settings, claims)
    user = db.scalar(found)
    if user is None:
        user = User(
            username=free_username(db, claims),
            email=_email(claims),
            password_hash=NO_PASSWORD,
            role=role or Role.USER,
            oidc_issuer=issuer,
            oidc_subject=subject,
        )
        db.add(user)
        try:
            db.commit()
            return user, False
        except IntegrityError:  # a concurrent first sign-in of the same identity won
            db.rollback()
            user = db.scalars(found).one()
    if not user.active:
        raise Forbidden("this account is disabled")
    changed = role is not None and user.role != role
    if role is not None:
        user.role = role
    user.email = _email(claims) or user.email
    db.commit()
    return user, changed


def claimed_role(settings: Settings, claims: Mapping[str, Any]) -> Role | None:
    """Admin when the groups claim holds the admin group, else user; None when no admin group
    is configured (then the role is the administrators' to set, as for local accounts)."""
    if not settings.oidc_admin_group:
        return None
    groups = claims.get(settings.oidc_groups_claim)
    if isinstance(groups, str):
        groups = groups.split()
    member = isinstance(groups, list) and settings.oidc_admin_group in groups
    return Role.ADMIN if member else Role.USER


def free_username(db: Session, claims: Mapping[str, Any]) -> str:
    """A local name from the claims (preferred_username, the email's local part, or "user"),
    made unique with a number when taken."""
    wanted = claims.get("preferred_username") or str(_email(claims) or "").split("@")[0]
    base = _NOT_A_NAME_CHARACTER.sub("-", str(wanted or "")).strip("-.")[:48]
    base = base if len(base) >= 3 else f"user-{base}".rstrip("-")
    for attempt in range(1, 50):
        name = base if attempt == 1 else f"{base}-{attempt}"
        taken = select(func.count()).select_from(User).where(User.username_key == account_key(name))
        if not db.scalar(taken):
            return name
    return f"{base}-{secrets.token_hex(4)}"


def _email(claims: Mapping[str, Any]) -> str | None:
    email = claims.get("email")
    return email[:254] if isinstance(email, str) and "@" in email else None


def issue_sso_code(client: redis.Redis, user_id: int) -> str:
    """A one-time code the browser trades for tokens (kept out of URLs, logs and history)."""
    code = secrets.token_urlsafe(32)
    client.set(sso_code_key(code), str(user_id), ex=SSO_CODE_TTL_S)
    return code


def redeem_sso_code(client: redis.Redis, code: str) -> int:
    """The user id a code was issued for, once; 401 for a used, expired or unknown code."""
    value = client.getdel(sso_code_key(code))
    if value is None:
        raise Unauthorized("the sign-in code is invalid or was used already")
    return int(value)
