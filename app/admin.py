"""The first administrator account, created by the run command."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.db import Database
from app.models import Role, User
from app.security import hash_password


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
