"""Bodies of the user's API keys."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from app.schemas.common import Body, Out, Timestamp


class KeyCreate(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class KeyOut(Out):
    id: int
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class KeyCreated(KeyOut):
    key: str


class KeyList(BaseModel):
    items: list[KeyOut]
