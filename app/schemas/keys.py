"""Bodies of the user's API keys."""

from __future__ import annotations

from pydantic import BaseModel

from app.schemas.common import Body, Name, Out, Timestamp


class KeyCreate(Body):
    name: Name


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
