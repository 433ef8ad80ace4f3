"""Bodies of chat sessions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Body, Out, RowId, Timestamp, Title

ModelName = Annotated[str, Field(min_length=1, max_length=64)]


class SessionCreate(Body):
    title: Title = "New chat"
    use_knowledge_base: bool = False
    template_id: RowId | None = None
    model: ModelName | None = None  # one of GET /api/models; None: the default


class SessionUpdate(Body):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    title: Title | None = None
    use_knowledge_base: bool | None = None
    template_id: RowId | None = None
    model: ModelName | None = None  # null: the default model
    pinned: bool | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> SessionUpdate:
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of title, use_knowledge_base, template_id, model, pinned"
            )
        return self


class SessionOut(Out):
    id: int
    title: str
    use_knowledge_base: bool
    template_id: int | None
    model: str | None  # None: the default model
    created_at: Timestamp
    updated_at: Timestamp
    pinned_at: Timestamp | None


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int
