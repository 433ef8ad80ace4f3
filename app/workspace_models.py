"""ORM models of the team's workspace: feedback on replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.enums import Rating
from app.models import utcnow


class Feedback(Base):
    """A user's thumbs up or down on one of their replies, with an optional comment; the
    template and model are copied from the reply's chat when it is rated (the chat may change)."""

    __tablename__ = "message_feedback"
    __table_args__ = (Index("ix_message_feedback_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE", name="fk_message_feedback_message_id"),
        unique=True,
    )
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_message_feedback_owner_id"),
        index=True,
    )
    rating: Mapped[Rating] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt_templates.id", ondelete="SET NULL", name="fk_message_feedback_template")
    )
    template_name: Mapped[str | None] = mapped_column(String(100))
    model_name: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
