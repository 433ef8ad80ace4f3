"""Bodies of the batch API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.enums import BatchStatus
from app.schemas.common import Input, Seed, Timestamp


class ItemCounts(BaseModel):
    queued: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0


class TokenTotals(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class BatchOut(BaseModel):
    id: int
    name: str
    status: BatchStatus
    total: int
    counts: ItemCounts
    progress: float = Field(description="finished items / total, 0..1")
    usage: TokenTotals
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    elapsed_s: float | None


class BatchList(BaseModel):
    items: list[BatchOut]


class BatchQuery(Input):
    """The batch's name and defaults for every line that does not set its own: a template (by
    name), the model (one of /v1/models) and sampling; a line's own value wins."""

    name: str | None = Field(default=None, max_length=300)
    template: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: Seed | None = None

    def line_defaults(self) -> dict[str, Any]:
        fields = ("template", "max_tokens", "temperature", "top_p", "seed")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}


class ModelList(BaseModel):
    items: list[str]  # served now, listed order (the default first when it is served)
    default: str  # a chat without a model of its own generates with this one


class MessageLimits(BaseModel):
    """What a message may be, for the composer to say before a send is refused."""

    max_message_chars: int  # a longer message is refused (422)
    context_tokens: int  # the model's context: template, message and reply must fit it
    default_max_tokens: int  # a reply's room when the request does not say
    max_tokens_limit: int  # the most a request may ask for
