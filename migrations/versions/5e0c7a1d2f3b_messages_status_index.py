"""messages: index on (status, id) for open-reply caps and queue positions

Revision ID: 5e0c7a1d2f3b
Revises: 1abd034b0692
Create Date: 2026-11-26 12:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e0c7a1d2f3b"
down_revision: str | None = "1abd034b0692"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_status_id", "messages", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_status_id", table_name="messages")
