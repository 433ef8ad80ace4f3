"""ORM models of the team's workspace: feedback on replies, chats shared as read-only links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
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


class ChatShare(Base):
    """A read-only link to a chat as it was when shared: any signed-in user who has the link
    reads the snapshot; the owner revokes it (the row goes), and it goes with the chat."""

    __tablename__ = "chat_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the link's secret part
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_chat_shares_owner_id"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE", name="fk_chat_shares_session_id"),
        index=True,
    )
    title: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # a ChatExport, as JSON
    message_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
