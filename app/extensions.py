"""Unbound Flask extensions, and the app's resources and database session for a request."""

from __future__ import annotations

from flask import current_app, g
from flask_jwt_extended import JWTManager
from flask_sock import Sock
from sqlalchemy.orm import Session

from app.resources import Resources

jwt = JWTManager()
sock = Sock()
EXTENSION_KEY = "queuechat"


def resources() -> Resources:
    found: Resources = current_app.extensions[EXTENSION_KEY]
    return found


def get_db() -> Session:
    """The request's database session; closed (and rolled back if uncommitted) at teardown."""
    if "db_session" not in g:
        g.db_session = resources().db.sessions()
    session: Session = g.db_session
    return session


def close_db(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
