"""SQLite tables become AUTOINCREMENT: a deleted row's id is never handed out again

PostgreSQL's sequences never reuse ids; nothing changes there.

Revision ID: 7d41c0a9e2b5
Revises: 5e0c7a1d2f3b
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7d41c0a9e2b5"
down_revision: str | None = "5e0c7a1d2f3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# parents before children; every table with an integer id
TABLES = (
    "users",
    "prompt_templates",
    "prompt_examples",
    "chat_sessions",
    "messages",
    "rag_documents",
    "batch_jobs",
    "batch_items",
    "api_keys",
)


def recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # env.py turns foreign keys off for SQLite migrations: dropping the old copy of a parent
    # table must not cascade into its children
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    recreate(True)


def downgrade() -> None:
    recreate(False)
