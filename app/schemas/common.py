"""Shared pieces of request and response bodies: strict bodies, ORM-read outputs, paging."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from app.config import Settings

MAX_ROW_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's rowid) holds
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def settings_of(info: ValidationInfo) -> Settings | None:
    """The settings the request parser passes as validation context (limits come from them)."""
    context: dict[str, Any] = info.context or {}
    found: Settings | None = context.get("settings")
    return found


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)
