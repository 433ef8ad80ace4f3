"""The compose `migrate` one-shot: apply the alembic migrations and create the first admin."""

from __future__ import annotations

import logging

from app.config import get_settings
from app.db import Database
from app.logs import configure_logging
from app.migrate import upgrade
from app.services.accounts import ensure_admin

logger = logging.getLogger("queuechat.migrate")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level, service="migrate")
    if not settings.admin_password:
        raise SystemExit("ADMIN_PASSWORD must be set: the first admin is created with it")
    upgrade(settings.sqlalchemy_url)
    logger.info("database schema is at head")
    database = Database(settings.sqlalchemy_url)
    try:
        ensure_admin(database, settings.admin_username, settings.admin_password)
    finally:
        database.dispose()
    logger.info("admin account '%s' is present", settings.admin_username)


if __name__ == "__main__":
    main()
