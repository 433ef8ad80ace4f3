"""Bodies of chats shared as read-only links."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.chat_export import ExportedMessage
from app.schemas.common import Out, Timestamp


class ShareOut(Out):
    id: int
    token: str = Field(description="the link's secret part: the chat is read at /s/{token}")
    session_id: int
    title: str
    message_count: int
    created_at: Timestamp


class ShareList(BaseModel):
    items: list[ShareOut]


class SharedChat(BaseModel):
    """A shared chat as it was when shared (later messages are not in it)."""

    title: str
    shared_by: str
    shared_at: Timestamp
    messages: list[ExportedMessage]
