"""Bodies of the batch API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.enums import BatchStatus
from app.schemas.common import Input, Timestamp


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
    name: str | None = Field(default=None, max_length=300)
