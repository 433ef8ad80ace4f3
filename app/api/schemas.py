"""Request and response bodies of the REST API; the OpenAPI spec is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.config import Settings


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _settings(info: ValidationInfo) -> Settings | None:
    context = info.context or {}
    found: Settings | None = context.get("settings")
    return found


Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[\w.-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RegisterBody(Body):
    username: Username
    password: Password
    email: Email | None = None


class LoginBody(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AuthConfig(BaseModel):
    registration: Literal["open", "admin"]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserOut(Out):
    id: int
    username: str
    email: str | None
    role: str
    active: bool
    created_at: datetime


class SessionCreate(Body):
    title: Title = "New chat"
    use_knowledge_base: bool = False
    template_id: int | None = None


class SessionUpdate(Body):
    title: Title | None = None
    use_knowledge_base: bool | None = None
    template_id: int | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> SessionUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, use_knowledge_base, template_id")
        return self


class SessionOut(Out):
    id: int
    title: str
    use_knowledge_base: bool
    template_id: int | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int


class SamplingParams(Body):
    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)

    @field_validator("temperature")
    @classmethod
    def temperature_in_bounds(cls, value: float | None, info: ValidationInfo) -> float | None:
        settings = _settings(info)
        if value is not None and settings and value > settings.max_temperature:
            raise ValueError(f"must be at most {settings.max_temperature}")
        return value

    @field_validator("max_tokens")
    @classmethod
    def max_tokens_in_bounds(cls, value: int | None, info: ValidationInfo) -> int | None:
        settings = _settings(info)
        if value is not None and settings and value > settings.max_tokens_limit:
            raise ValueError(f"must be at most {settings.max_tokens_limit}")
        return value

    def as_stored(self) -> dict[str, Any]:
        """The sampling parameters alone, as stored on the reply."""
        return self.model_dump(include=set(SamplingParams.model_fields), exclude_none=True)


class MessageCreate(SamplingParams):
    content: str
    use_knowledge_base: bool | None = None

    @field_validator("content")
    @classmethod
    def content_in_bounds(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        settings = _settings(info)
        if settings and len(value) > settings.max_message_chars:
            raise ValueError(f"must be at most {settings.max_message_chars} characters")
        return value


class RegenerateBody(SamplingParams):
    pass


class Citation(BaseModel):
    document_id: int
    title: str
    page: int | None = None
    heading: str | None = None
    chunk_index: int
    snippet: str
    score: float


class MessageOut(Out):
    id: int
    session_id: int
    role: str
    content: str
    status: str
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    time_to_first_token_ms: float | None
    tokens_per_second: float | None
    model_name: str | None
    citations: list[Citation]
    created_at: datetime
    completed_at: datetime | None


class MessageList(BaseModel):
    items: list[MessageOut]


class ReplyQueued(BaseModel):
    user_message_id: int | None
    assistant_message_id: int
    status: str


class CancelResult(BaseModel):
    message_id: int
    status: str


class DocumentOut(Out):
    id: int
    title: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str
    metadata: dict[str, Any] = Field(validation_alias="meta")
    status: str
    progress: float
    chunks_done: int
    chunk_count: int
    error: str | None
    created_at: datetime
    updated_at: datetime


class DocumentList(BaseModel):
    items: list[DocumentOut]


LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class ExampleIn(Body):
    user_input: LongText
    assistant_output: LongText


class ExampleOut(Out):
    id: int
    position: int
    user_input: str
    assistant_output: str


class TemplateCreate(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    system_prompt: LongText
    active: bool = True
    examples: list[ExampleIn] = Field(default_factory=list, max_length=50)


class TemplateUpdate(Body):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    system_prompt: LongText | None = None
    active: bool | None = None


class ExamplesReplace(Body):
    examples: list[ExampleIn] = Field(max_length=50)


class TemplateOut(Out):
    id: int
    name: str
    system_prompt: str
    active: bool
    is_default: bool
    examples: list[ExampleOut]
    created_at: datetime
    updated_at: datetime


class TemplateList(BaseModel):
    items: list[TemplateOut]
