"""Bodies of chat sessions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints, model_validator

from app.schemas.common import Body, Out, RowId, Timestamp

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SessionCreate(Body):
    title: Title = "New chat"
    use_knowledge_base: bool = False
    template_id: RowId | None = None


class SessionUpdate(Body):
    title: Title | None = None
    use_knowledge_base: bool | None = None
    template_id: RowId | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> SessionUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, use_knowledge_base, template_id")
        return self


class SessionOut(Out):
    id: int
    title: str
    use_knowledge_base: bool
    template_id: int | None
    created_at: Timestamp
    updated_at: Timestamp


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int
