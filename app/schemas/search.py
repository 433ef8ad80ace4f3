"""Bodies of the search over a user's messages."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.common import Input, Timestamp

MAX_QUERY_CHARS = 200
MAX_TERMS = 8  # words of a query beyond these are ignored
WORD = re.compile(r"[^\W_]+")  # letters and digits: what both full-text indexes call a word


class SearchQuery(Input):
    model_config = ConfigDict(extra="forbid")
    # words are its letters and digits; a query without any finds nothing
    q: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS)]
    limit: int = Field(default=20, ge=1, le=50)

    @property
    def terms(self) -> list[str]:
        """The query's words, lower-cased, once each, in order (at most ``MAX_TERMS``)."""
        found = dict.fromkeys(word.lower() for word in WORD.findall(self.q))
        return list(found)[:MAX_TERMS]


class Highlight(BaseModel):
    """Characters ``start`` (inclusive) to ``end`` (exclusive) of the snippet matched."""

    start: int
    end: int


class SearchHit(BaseModel):
    message_id: int
    session_id: int
    session_title: str
    role: str
    snippet: str = Field(description="the message's text around the first match, on one line")
    highlights: list[Highlight]
    created_at: Timestamp


class SearchResults(BaseModel):
    items: list[SearchHit]
