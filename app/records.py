"""Usage records, token budgets and the audit log (registered by app/models.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class UsageRecord(Base):
    """Tokens one finished generation used, written with its final state (never per token).

    No foreign key to the message or item: usage outlives a deleted chat.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("kind", "job_id", name="uq_usage_records_kind_job"),
        Index("ix_usage_records_user_day", "user_id", "day"),
        Index("ix_usage_records_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_usage_records_user_id")
    )
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL", name="fk_usage_records_api_key_id")
    )
    kind: Mapped[str] = mapped_column(String(16))  # chat, batch, api
    job_id: Mapped[int] = mapped_column(BigInteger)  # the message's or the item's id
    model_name: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)  # UTC
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TokenBudget(Base):
    """Daily and monthly token budgets (prompt + completion); None is no limit. The row with
    no user is everyone's default; a user's own row replaces it."""

    __tablename__ = "token_budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_token_budgets_user_id"), unique=True
    )
    daily_tokens: Mapped[int | None] = mapped_column(BigInteger)
    monthly_tokens: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEvent(Base):
    """An append-only record of a security-relevant action (the database refuses updates and
    deletes). The actor is a snapshot, not a foreign key; never any message content."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created", "created_at"),
        Index("ix_audit_events_action", "action", "id"),
        Index("ix_audit_events_actor", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
