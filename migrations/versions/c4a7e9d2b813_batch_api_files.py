"""the OpenAI Batch API: api_files, and batch_jobs' endpoint, window, files and lifecycle

Revision ID: c4a7e9d2b813
Revises: e4a7c2b9d130
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a7e9d2b813"
down_revision: str | None = "e4a7c2b9d130"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("expires_at", "failed_at", "expired_at", "finalized_at")
FILE_IDS = ("input_file_id", "output_file_id", "error_file_id")


def upgrade() -> None:
    op.create_table(
        "api_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_api_files_owner_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,  # ids are never reused (7d41c0a9e2b5)
    )
    op.create_index("ix_api_files_owner_id", "api_files", ["owner_id", "id"], unique=False)
    with op.batch_alter_table("batch_jobs") as batch:
        batch.add_column(sa.Column("endpoint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("completion_window", sa.String(length=16), nullable=True))
        for name in FILE_IDS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("errors", sa.JSON(), nullable=True))
        for name in MOMENTS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_batch_jobs_status_expires", "batch_jobs", ["status", "expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_batch_jobs_status_expires", table_name="batch_jobs")
    with op.batch_alter_table("batch_jobs") as batch:
        for name in ("endpoint", "completion_window", *FILE_IDS, "metadata", "errors", *MOMENTS):
            batch.drop_column(name)
    op.drop_index("ix_api_files_owner_id", table_name="api_files")
    op.drop_table("api_files")
