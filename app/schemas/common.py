"""Shared pieces of request and response bodies: strict bodies, ORM-read outputs, paging."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from app.config import Settings
from app.models import as_utc

MAX_ROW_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's rowid) holds
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]  # the same bound for chat, /v1 and batch lines
# every moment in a response is UTC with its offset (RFC 3339): SQLite hands back naive ones
Timestamp = Annotated[datetime, AfterValidator(as_utc)]


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
