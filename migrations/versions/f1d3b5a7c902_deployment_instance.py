"""deployment: the database's random instance id (Redis keys belong to one database)

Revision ID: f1d3b5a7c902
Revises: c4a7e9d2b813
Create Date: 2026-12-02 15:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1d3b5a7c902"
down_revision: str | None = "c4a7e9d2b813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(table, [{"id": 1, "instance": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("deployment")
