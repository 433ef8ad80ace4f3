"""Shared pieces of request and response bodies: strict bodies, ORM-read outputs, paging."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.config import Settings
from app.models import as_utc

MAX_ROW_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite's rowid) holds
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]  # the same bound for chat, /v1 and batch lines
# every moment in a response is UTC with its offset (RFC 3339): SQLite hands back naive ones
Timestamp = Annotated[datetime, AfterValidator(as_utc)]
NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def written_as_date(value: object) -> object:
    """A date in a query is written as one: pydantic alone reads ``0.5`` as a Unix time."""
    if isinstance(value, int | float) or (isinstance(value, str) and NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date, not a number")
    return value


# dates and moments in query strings (filters of admin views and reports)
QueryDate = Annotated[date, BeforeValidator(written_as_date)]
def in_utc(moment: datetime) -> datetime:
    """A moment of a query, in UTC (naive: UTC already). PostgreSQL takes offsets only up to
    15:59, and a moment whose UTC falls outside years 1-9999 has no datetime: 422, not 500."""
    try:
        return as_utc(moment).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the years 1 to 9999 in UTC") from exc


QueryMoment = Annotated[datetime, BeforeValidator(written_as_date), AfterValidator(in_utc)]
# a character that is neither a space nor a control character, spelled out so that the server
# (Python's re) and the spec (ECMA-262, whose \s is narrower) mean the same characters
VISIBLE = r"[^\s\x00-\x20\x7f-\x9f\uFEFF]"


def visible(value: str) -> str:
    if not re.search(VISIBLE, value):
        raise ValueError("must not be empty")
    return value


# what the spec says of every request string: no NUL (see Input); with visible text for these
NO_NUL = r"^[^\x00]*$"
_VISIBLE_SCHEMA = Field(json_schema_extra={"pattern": rf"^[^\x00]*{VISIBLE}[^\x00]*$"})
Text = Annotated[str, Field(min_length=1), _VISIBLE_SCHEMA, AfterValidator(visible)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    _VISIBLE_SCHEMA,
    AfterValidator(visible),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    _VISIBLE_SCHEMA,
    AfterValidator(visible),
]


SETTING_BOUND = "x-setting-bound"


def bounded_by(setting: str, keyword: str = "maximum") -> dict[str, Any]:
    """The JSON Schema keyword (``maximum``, ``maxLength``) whose value is a setting's; the
    spec fills it in from the settings of the app that serves it, the view's check enforces it."""
    return {SETTING_BOUND: [keyword, setting]}


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


class Input(BaseModel):
    """Every request body and query. PostgreSQL text and JSON cannot hold U+0000, so no text a
    client sends may: one rule for both databases, a 422 instead of a failed INSERT."""

    @field_validator("*", mode="before")
    @classmethod
    def refuse_nul(cls, value: Any) -> Any:
        if holds_nul(value):
            raise ValueError("must not contain NUL characters (U+0000)")
        return value


class Body(Input):
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def settings_of(info: ValidationInfo) -> Settings | None:
    """The settings the request parser passes as validation context (limits come from them)."""
    context: dict[str, Any] = info.context or {}
    found: Settings | None = context.get("settings")
    return found


class Page(Input):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)
