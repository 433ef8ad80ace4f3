"""chat_sessions.model and batch_items.model: several models, each with its own queues

Revision ID: a7c3e9f1b204
Revises: e5f1b7c3a920
Create Date: 2026-12-04 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9f1b204"
down_revision: str | None = "e5f1b7c3a920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("chat_sessions", "batch_items"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    for table in ("chat_sessions", "batch_items"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("model")
