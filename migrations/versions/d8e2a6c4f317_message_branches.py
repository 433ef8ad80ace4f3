"""messages.parent_id (a chat is a tree: edits and regenerations are versions) and
chat_sessions.leaf_id (the last message of the branch the chat shows)

Every existing message follows the one before it in its chat, as the chat showed it. SQLite
changes ``messages`` in batch mode (a rebuilt table): that drops the full-text triggers of
a3f6c8e1d205, which are read before and created again after, and the index rebuilt.

Revision ID: d8e2a6c4f317
Revises: b5d9e3f7a146
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "d8e2a6c4f317"
down_revision: str | None = "b5d9e3f7a146"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = (
    "UPDATE messages SET parent_id = (SELECT max(earlier.id) FROM messages AS earlier"
    " WHERE earlier.session_id = messages.session_id AND earlier.id < messages.id)"
)


def upgrade() -> None:
    with rebuilt_messages() as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_messages_parent_id", "messages", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_messages_parent_id", ["parent_id"])
    op.execute(BACKFILL)
    op.add_column("chat_sessions", sa.Column("leaf_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("chat_sessions", "leaf_id")
    with rebuilt_messages() as batch:
        batch.drop_index("ix_messages_parent_id")
        batch.drop_constraint("fk_messages_parent_id", type_="foreignkey")
        batch.drop_column("parent_id")


@contextmanager
def rebuilt_messages() -> Iterator[BatchOperations]:
    """``messages`` in batch mode, its SQLite triggers kept (PostgreSQL alters it in place)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = op.get_bind().execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'")
    ) if sqlite else []  # fmt: skip
    kept = [str(sql) for (sql,) in triggers]
    with op.batch_alter_table("messages", table_kwargs={"sqlite_autoincrement": True}) as batch:
        yield batch
    for trigger in kept:
        op.execute(trigger)
    if kept:
        op.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
