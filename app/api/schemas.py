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


class SessionRename(Body):
    title: Title


class SessionOut(Out):
    id: int
    title: str
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
