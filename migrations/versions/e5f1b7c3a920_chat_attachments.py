"""rag_documents.session_id and message_id: files attached in a chat (private to its owner)

Revision ID: e5f1b7c3a920
Revises: d8e2a6c4f317
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f1b7c3a920"
down_revision: str | None = "d8e2a6c4f317"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        "rag_documents", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_rag_documents_session_id", "chat_sessions", ["session_id"], ["id"],
            ondelete="CASCADE",
        )  # fmt: skip
        batch.create_foreign_key(
            "fk_rag_documents_message_id", "messages", ["message_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch.create_index("ix_rag_documents_session_id", ["session_id"])


def downgrade() -> None:
    with op.batch_alter_table(
        "rag_documents", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_index("ix_rag_documents_session_id")
        batch.drop_constraint("fk_rag_documents_message_id", type_="foreignkey")
        batch.drop_constraint("fk_rag_documents_session_id", type_="foreignkey")
        batch.drop_column("message_id")
        batch.drop_column("session_id")
