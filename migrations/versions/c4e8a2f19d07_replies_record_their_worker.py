"""messages, batch_items: the worker that generated each (routing and several workers)

Revision ID: c4e8a2f19d07
Revises: d7b2f5a9c1e4
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a2f19d07"
down_revision: str | None = "d7b2f5a9c1e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("worker", sa.String(length=200), nullable=True))
    op.add_column("batch_items", sa.Column("worker", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("batch_items", "worker")
    op.drop_column("messages", "worker")
