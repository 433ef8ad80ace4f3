"""Accounts the test stacks and benchmarks make directly in the database."""

from __future__ import annotations

from app.db import Database
from app.enums import Role
from app.models import User
from app.services.accounts import hash_password


def add_account(database: Database, username: str, password: str, role: Role = Role.ADMIN) -> int:
    """A new account (an administrator unless told otherwise); its id."""
    with database.session() as session:
        user = User(username=username, password_hash=hash_password(password), role=role)
        session.add(user)
        session.flush()
        return user.id
