"""Bodies of the admin API (users, system); the OpenAPI spec is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from app.schemas.auth import UserOut
from app.schemas.common import Body


class UserList(BaseModel):
    items: list[UserOut]


class UserPatch(Body):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    role: Literal["user", "admin"] | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def changes_something(self) -> UserPatch:
        if not self.model_fields_set:  # null, as in sessions, leaves a field as it is
            raise ValueError("give role and/or active")
        return self


class QueueDepths(BaseModel):
    inference: int
    batch: int
    ingest: int


class SystemOut(BaseModel):
    queues: QueueDepths
    workers: list[str]
    flower_url: str
