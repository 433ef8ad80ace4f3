"""The table of the OpenAI Files API's files (imported by app/models.py, which re-exports it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import utcnow


class ApiFile(Base):
    """A file of the OpenAI Files API: a Batch API input (``batch``) or a batch's output or
    error file (``batch_output``). The bytes are in the row: every process reads them."""

    __tablename__ = "api_files"
    __table_args__ = (Index("ix_api_files_owner_id", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_api_files_owner_id")
    )
    purpose: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
