"""chat_shares: chats shared as read-only links (a snapshot each)

Revision ID: b5d9e3f7a146
Revises: a3f6c8e1d205
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d9e3f7a146"
down_revision: str | None = "a3f6c8e1d205"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_chat_shares_owner_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name="fk_chat_shares_session_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_chat_shares_owner_id", "chat_shares", ["owner_id"])
    op.create_index("ix_chat_shares_session_id", "chat_shares", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_shares_session_id", table_name="chat_shares")
    op.drop_index("ix_chat_shares_owner_id", table_name="chat_shares")
    op.drop_table("chat_shares")
