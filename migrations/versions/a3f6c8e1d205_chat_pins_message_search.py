"""chat_sessions.pinned_at; a full-text index over messages.content (SQLite FTS5, PostgreSQL GIN)

SQLite: ``messages_fts``, an external-content FTS5 table over ``messages`` kept in step by
three triggers. A later migration that rebuilds ``messages`` in batch mode drops those
triggers with the table: it must create them again (``SQLITE_TRIGGERS`` below) and rebuild.
PostgreSQL: a GIN index on ``to_tsvector('simple', content)``, the expression the search
query uses. Neither is in the models (see ``app.db.described_by_models``).

Revision ID: a3f6c8e1d205
Revises: f1d3b5a7c902
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3f6c8e1d205"
down_revision: str | None = "f1d3b5a7c902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, content)"
    " VALUES ('delete', old.id, old.content);"
    " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
)
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_messages_content_fts ON messages"
    " USING gin (to_tsvector('simple'::regconfig, content))"
)


def upgrade() -> None:
    op.add_column("chat_sessions", sa.Column("pinned_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    else:
        op.execute(POSTGRESQL_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_content_fts")
    op.drop_column("chat_sessions", "pinned_at")
