"""ORM models: users, chat sessions, messages, prompt templates, documents, revoked tokens."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.db import Base
from app.enums import BatchStatus, DocumentStatus, ItemStatus, MessageRole, MessageStatus, Role


def utcnow() -> datetime:
    return datetime.now(UTC)


def owned_children(back_populates: str, order_by: str | Literal[False] = False) -> Any:
    """Rows that live and die with their parent (the database deletes them with it)."""
    return relationship(back_populates=back_populates, cascade="all, delete-orphan",
                        passive_deletes=True, order_by=order_by)  # fmt: skip


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def account_key(username: str) -> str:
    """What makes two usernames the same account: NFKC form, case folded ("Ａlice" is "alice")."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


class User(Base):
    __tablename__ = "users"
    # a single sign-on account is its provider's (issuer, subject); local accounts have neither
    __table_args__ = (
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16), default=Role.USER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    sessions: Mapped[list[ChatSession]] = owned_children("owner")

    @validates("username")
    def _keep_account_key(self, _field: str, username: str) -> str:
        self.username_key = account_key(username)
        return username


class ChatSession(Base):
    """A user's conversation; deleting it deletes its messages (and the database's cascade)."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_owner_updated", "owner_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    use_knowledge_base: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt_templates.id", ondelete="SET NULL", name="fk_chat_sessions_template_id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: not pinned
    model: Mapped[str | None] = mapped_column(String(200))  # None: the default model
    leaf_id: Mapped[int | None] = mapped_column(Integer)  # the shown branch's last message

    owner: Mapped[User] = relationship(back_populates="sessions")
    messages: Mapped[list[Message]] = owned_children("session", order_by="Message.id")


class Message(Base):
    """A user's turn or an assistant's reply; a reply carries its generation state."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_session_id", "session_id", "id"),
        # open replies (per-user cap) and queue positions are read by status, not by history
        Index("ix_messages_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    # the turn it follows (a reply: its question); siblings are versions (app/services/branches.py)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL", name="fk_messages_parent_id"), index=True
    )
    role: Mapped[MessageRole] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(String(16), default=MessageStatus.DONE)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sampling: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    use_knowledge_base: Mapped[bool | None] = mapped_column(Boolean)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    time_to_first_token_ms: Mapped[float | None] = mapped_column(Float)
    tokens_per_second: Mapped[float | None] = mapped_column(Float)
    model_name: Mapped[str | None] = mapped_column(String(200))
    worker: Mapped[str | None] = mapped_column(String(200))  # the worker that generated it
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    # completion tokens this reply may spend (its user's budget, at enqueue); None: no budget
    reserved_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    session: Mapped[ChatSession] = relationship(back_populates="messages")
    parent: Mapped[Message | None] = relationship(remote_side="Message.id")
    # its owner's rating, loaded with the message (one IN query per list of messages)
    feedback: Mapped[Feedback | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )


class PromptTemplate(Base):
    """A system prompt with ordered few-shot examples; one template is the default."""

    __tablename__ = "prompt_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    system_prompt: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    examples: Mapped[list[PromptExample]] = owned_children(
        "template", order_by="PromptExample.position"
    )


class PromptExample(Base):
    __tablename__ = "prompt_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_templates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    user_input: Mapped[str] = mapped_column(Text)
    assistant_output: Mapped[str] = mapped_column(Text)

    template: Mapped[PromptTemplate] = relationship(back_populates="examples")


class RagDocument(Base):
    """An uploaded file, stored under var/ by its generated storage name: a knowledge-base
    document, or a file attached in a chat (``session_id``: private to that chat's owner)."""

    __tablename__ = "rag_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE", name="fk_rag_documents_session_id"),
        index=True,
    )
    # the question it was sent with (None: attached, not sent yet; or a knowledge-base document)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL", name="fk_rag_documents_message_id")
    )
    title: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # an attachment's: of chat+bytes
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[DocumentStatus] = mapped_column(String(16), default=DocumentStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RevokedToken(Base):
    """JWT ids revoked by logout; kept in the database so a web restart keeps them revoked."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BatchJob(Base):
    """A submitted JSONL file of generation requests; its items carry the work and results."""

    __tablename__ = "batch_jobs"
    __table_args__ = (Index("ix_batch_jobs_owner_created", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_batch_jobs_owner_id")
    )
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[BatchStatus] = mapped_column(String(16), default=BatchStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    endpoint: Mapped[str | None] = mapped_column(String(64))  # Batch API; NULL: /api/batches
    completion_window: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    input_file_id: Mapped[int | None] = mapped_column(BigInteger)  # ids stay after a delete
    output_file_id: Mapped[int | None] = mapped_column(BigInteger)
    error_file_id: Mapped[int | None] = mapped_column(BigInteger)
    meta: Mapped[dict[str, str] | None] = mapped_column("metadata", JSON)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# the expiry sweep reads open Batch API batches by deadline
Index("ix_batch_jobs_status_expires", BatchJob.status, BatchJob.expires_at)


class BatchItem(Base):
    """One generation request: a line of a batch, or (batch_id NULL) an OpenAI API call."""

    __tablename__ = "batch_items"
    __table_args__ = (
        Index("ix_batch_items_batch_id", "batch_id", "id"),
        Index("ix_batch_items_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE", name="fk_batch_items_batch_id")
    )
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_batch_items_owner_id")
    )
    line: Mapped[int | None] = mapped_column(Integer)
    custom_id: Mapped[str | None] = mapped_column(String(200))
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ItemStatus] = mapped_column(String(16), default=ItemStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    time_to_first_token_ms: Mapped[float | None] = mapped_column(Float)
    tokens_per_second: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(200))  # the worker that generated it
    reserved_tokens: Mapped[int | None] = mapped_column(Integer)  # as Message.reserved_tokens
    model: Mapped[str | None] = mapped_column(String(200))  # its queue's; None: the default
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL", name="fk_batch_items_api_key_id")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


import app.records  # noqa: E402, F401  the usage, budget and audit tables, before the loop below
from app.api_files_table import ApiFile  # noqa: E402, F401  (needs utcnow; before the loop)
from app.api_keys_table import ApiKey  # noqa: E402, F401  (needs utcnow; before the loop)
from app.instance import Deployment  # noqa: E402, F401  the database's instance id
from app.workspace_models import ChatShare, Feedback  # noqa: E402, F401  (defined apart)

# Ids are never reused, on any table: SQLite hands a deleted row's id to the next insert unless the
# table is AUTOINCREMENT (PostgreSQL's sequences never go back). A reused id would meet what a
# deleted row left behind (a cancel flag, a stream, a link in someone's history).
for _table in Base.metadata.tables.values():
    _table.dialect_options["sqlite"]["autoincrement"] = True
