"""Bodies of prompt templates and their few-shot examples."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.schemas.common import Body, Name, Out, Timestamp

LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class ExampleIn(Body):
    user_input: LongText
    assistant_output: LongText


class ExampleOut(Out):
    id: int
    position: int
    user_input: str
    assistant_output: str


class TemplateCreate(Body):
    name: Name
    system_prompt: LongText
    active: bool = True
    examples: list[ExampleIn] = Field(default_factory=list, max_length=50)


class TemplateUpdate(Body):
    name: Name | None = None
    system_prompt: LongText | None = None
    active: bool | None = None


class ExamplesReplace(Body):
    examples: list[ExampleIn] = Field(max_length=50)


class TemplateOut(Out):
    id: int
    name: str
    system_prompt: str
    active: bool
    is_default: bool
    examples: list[ExampleOut]
    created_at: Timestamp
    updated_at: Timestamp


class TemplateList(BaseModel):
    items: list[TemplateOut]
