"""usage records, token budgets (with everyone's default row), the append-only audit log;
replies' finish_reason, reserved tokens on replies and items, the API key of an item

Revision ID: e4a7c2b9d130
Revises: c4e8a2f19d07
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "e4a7c2b9d130"
down_revision: str | None = "c4e8a2f19d07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the database itself refuses to change or remove an audit event
SQLITE_GUARDS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]
POSTGRES_GUARDS = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]


def upgrade() -> None:
    autoincrement = {"sqlite_autoincrement": True}
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_usage_records_user_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name="fk_usage_records_api_key_id",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "job_id", name="uq_usage_records_kind_job"),
        **autoincrement,
    )
    op.create_index("ix_usage_records_user_day", "usage_records", ["user_id", "day"])
    op.create_index("ix_usage_records_day", "usage_records", ["day"])
    op.create_table(
        "token_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("daily_tokens", sa.BigInteger(), nullable=True),
        sa.Column("monthly_tokens", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_token_budgets_user_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
        **autoincrement,
    )
    budgets = sa.table(
        "token_budgets", sa.column("user_id"), sa.column("updated_at", sa.DateTime(timezone=True))
    )
    op.bulk_insert(budgets, [{"user_id": None, "updated_at": datetime.now(UTC)}])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        **autoincrement,
    )
    op.create_index("ix_audit_events_created", "audit_events", ["created_at"])
    op.create_index("ix_audit_events_action", "audit_events", ["action", "id"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id", "id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_GUARDS if sqlite else POSTGRES_GUARDS:
        op.execute(statement)
    with op.batch_alter_table("messages", table_kwargs=autoincrement) as batch:
        batch.add_column(sa.Column("finish_reason", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("reserved_tokens", sa.Integer(), nullable=True))
    with op.batch_alter_table("batch_items", table_kwargs=autoincrement) as batch:
        batch.add_column(sa.Column("reserved_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("api_key_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_batch_items_api_key_id", "api_keys", ["api_key_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    autoincrement = {"sqlite_autoincrement": True}
    with op.batch_alter_table("batch_items", table_kwargs=autoincrement) as batch:
        batch.drop_constraint("fk_batch_items_api_key_id", type_="foreignkey")
        batch.drop_column("api_key_id")
        batch.drop_column("reserved_tokens")
    with op.batch_alter_table("messages", table_kwargs=autoincrement) as batch:
        batch.drop_column("reserved_tokens")
        batch.drop_column("finish_reason")
    op.drop_table("audit_events")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("token_budgets")
    op.drop_table("usage_records")
