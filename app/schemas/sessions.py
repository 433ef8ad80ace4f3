"""Bodies of chat sessions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from app.schemas.common import Body, Out, RowId, Timestamp, Title


class SessionCreate(Body):
    title: Title = "New chat"
    use_knowledge_base: bool = False
    template_id: RowId | None = None


class SessionUpdate(Body):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    title: Title | None = None
    use_knowledge_base: bool | None = None
    template_id: RowId | None = None
    pinned: bool | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> SessionUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, use_knowledge_base, template_id, pinned")
        return self


class SessionOut(Out):
    id: int
    title: str
    use_knowledge_base: bool
    template_id: int | None
    created_at: Timestamp
    updated_at: Timestamp
    pinned_at: Timestamp | None


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int
