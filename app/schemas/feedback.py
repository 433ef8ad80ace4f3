"""Bodies of feedback on replies, and of the admin view of it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.enums import Rating
from app.schemas.common import MAX_ROW_ID, Body, Input, Out, QueryMoment, RowId, Timestamp

MAX_COMMENT_CHARS = 2000
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_COMMENT_CHARS)]


RatingName = Literal["up", "down"]  # a literal: strict bodies take the string itself


class FeedbackIn(Body):
    rating: RatingName
    comment: Comment | None = None


class FeedbackOut(Out):
    rating: Rating
    comment: str | None
    updated_at: Timestamp


class FeedbackQuery(Input):
    """Filters of the admin view (all optional); ``since`` inclusive, ``until`` exclusive."""

    model_config = ConfigDict(extra="forbid")
    rating: RatingName | None = None  # a literal: a query parameter holds no $ref
    template_id: RowId | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    since: QueryMoment | None = None
    until: QueryMoment | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)


class FeedbackAdminOut(Out):
    id: int
    message_id: int
    username: str
    rating: Rating
    comment: str | None
    template_id: int | None
    template_name: str | None
    model_name: str | None
    question: str
    reply: str
    created_at: Timestamp


class FeedbackPage(BaseModel):
    items: list[FeedbackAdminOut]
    up: int  # thumbs up among all rows the filters keep (not only this page)
    down: int
    models: list[str]  # every model with feedback, for the filter
