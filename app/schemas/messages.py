"""Bodies of messages and replies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.enums import DocumentStatus, MessageRole, MessageStatus
from app.schemas.common import Body, Out, Seed, Text, Timestamp, bounded_by, settings_of
from app.schemas.feedback import FeedbackOut


class SamplingParams(Body):
    temperature: float | None = Field(
        default=None, ge=0.0, json_schema_extra=bounded_by("max_temperature")
    )
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(
        default=None, ge=1, json_schema_extra=bounded_by("max_tokens_limit")
    )
    seed: Seed | None = None

    @field_validator("temperature", "max_tokens")
    @classmethod
    def within_server_limit(cls, value: float | None, info: ValidationInfo) -> float | None:
        """The server's ceilings (MAX_TEMPERATURE, MAX_TOKENS_LIMIT) from the settings."""
        settings = settings_of(info)
        if value is None or settings is None:
            return value
        limit = (
            settings.max_temperature
            if info.field_name == "temperature"
            else settings.max_tokens_limit
        )
        if value > limit:
            raise ValueError(f"must be at most {limit}")
        return value

    def as_stored(self) -> dict[str, Any]:
        """The sampling parameters alone, as stored on the reply."""
        return self.model_dump(include=set(SamplingParams.model_fields), exclude_none=True)


class MessageCreate(SamplingParams):
    content: Text = Field(json_schema_extra=bounded_by("max_message_chars", "maxLength"))
    use_knowledge_base: bool | None = None
    file_ids: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="files attached to this chat (POST /api/sessions/{id}/files) sent with the "
        "question; its reply waits until every file of the chat is read",
    )

    @field_validator("content")
    @classmethod
    def content_in_bounds(cls, value: str, info: ValidationInfo) -> str:
        settings = settings_of(info)
        if settings and len(value) > settings.max_message_chars:
            raise ValueError(f"must be at most {settings.max_message_chars} characters")
        return value


class RegenerateBody(SamplingParams):
    pass


class Citation(BaseModel):
    document_id: int
    source: Literal["knowledge_base", "chat_file"] = "knowledge_base"
    title: str
    page: int | None = None
    heading: str | None = None
    chunk_index: int
    snippet: str
    score: float


class SentFile(Out):
    id: int
    title: str
    status: DocumentStatus


class MessageOut(Out):
    id: int
    session_id: int
    parent_id: int | None = Field(
        default=None, description="the message it follows (a reply: its question)"
    )
    versions: list[int] = Field(
        default_factory=list,
        description="in a chat's list: the ids of this message's versions (the edits of a "
        "question, the regenerations of a reply), itself included, oldest first",
    )
    role: MessageRole
    content: str
    status: MessageStatus
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    time_to_first_token_ms: float | None
    tokens_per_second: float | None
    model_name: str | None
    finish_reason: str | None = Field(
        default=None, description="stop, length, cancelled, or budget (the token budget ran out)"
    )
    citations: list[Citation]
    created_at: Timestamp
    completed_at: Timestamp | None
    feedback: FeedbackOut | None = None  # its owner's rating of a reply
    files: list[SentFile] = Field(default_factory=list, description="a question's files")


class MessageList(BaseModel):
    items: list[MessageOut]


class ReplyQueued(BaseModel):
    user_message_id: int | None
    assistant_message_id: int
    status: MessageStatus


class CancelResult(BaseModel):
    message_id: int
    status: Literal["cancelled", "cancelling"]
