"""users.username_key: usernames that differ only in case or Unicode form are one account

Revision ID: 9c2e4f7a1b60
Revises: 7d41c0a9e2b5
Create Date: 2026-12-01 21:50:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c2e4f7a1b60"
down_revision: str | None = "7d41c0a9e2b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def account_key(username: str) -> str:  # as app.models.account_key at this revision
    return unicodedata.normalize("NFKC", username).casefold().strip()


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=128), nullable=True))
    bind = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("username_key", sa.String))  # fmt: skip
    seen: set[str] = set()
    for user_id, username in bind.execute(
        sa.select(users.c.id, users.c.username).order_by(users.c.id)
    ):
        key = account_key(username)
        if key in seen:  # an older twin keeps the name; this one is told apart by its id
            key = f"{key}#{user_id}"
        seen.add(key)
        bind.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(length=128), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("username_key")
