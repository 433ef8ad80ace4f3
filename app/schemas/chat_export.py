"""A chat exported (QueueChat's JSON) and what an import takes: QueueChat's JSON, or ChatGPT's
export (one conversation, or the list in its ``conversations.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from app.schemas.common import Input, Timestamp, in_utc
from app.schemas.sessions import SessionOut

MAX_IMPORTED_MESSAGES = 1000  # per chat
MAX_IMPORTED_CHATS = 50  # per import
MAX_IMPORTED_CHARS = 100_000  # per message
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z: a Unix time a datetime holds

Content = Annotated[str, Field(max_length=MAX_IMPORTED_CHARS)]
UnixTime = Annotated[float, Field(ge=0, le=LAST_SECOND)]


class ExportedMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    status: str
    created_at: Timestamp
    model_name: str | None = None
    finish_reason: str | None = None
    citations: list[dict[str, Any]] = []


class ExportQuery(Input):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "markdown"] = "json"


class ChatExport(BaseModel):
    """``GET /api/sessions/{id}/export?format=json``: the chat as of the export."""

    format: Literal["queuechat.chat"] = "queuechat.chat"
    version: Literal[1] = 1
    title: str
    created_at: Timestamp
    exported_at: Timestamp
    messages: list[ExportedMessage]


class Lenient(Input):
    """Files written by other programs: fields this server does not read are ignored (no text
    may hold U+0000, which PostgreSQL cannot store)."""

    model_config = ConfigDict(extra="ignore")


class ImportedMessage(Lenient):
    role: Literal["user", "assistant"]
    content: Content
    created_at: Annotated[datetime, AfterValidator(in_utc)] | None = None


class QueueChatImport(Lenient):
    format: Literal["queuechat.chat"]
    version: Literal[1]
    title: Annotated[str, Field(max_length=10_000)] = ""
    messages: Annotated[list[ImportedMessage], Field(max_length=MAX_IMPORTED_MESSAGES)]


class ChatGptAuthor(Lenient):
    role: Annotated[str, Field(max_length=64)]


class ChatGptContent(Lenient):
    content_type: Annotated[str, Field(max_length=64)] = "text"
    parts: Annotated[list[Any], Field(max_length=1000)] | None = None


class ChatGptMessage(Lenient):
    author: ChatGptAuthor
    content: ChatGptContent | None = None
    create_time: UnixTime | None = None


class ChatGptNode(Lenient):
    message: ChatGptMessage | None = None
    parent: Annotated[str, Field(max_length=200)] | None = None


class ChatGptConversation(Lenient):
    title: Annotated[str, Field(max_length=10_000)] | None = None
    create_time: UnixTime | None = None
    mapping: Annotated[
        dict[str, ChatGptNode], Field(min_length=1, max_length=5 * MAX_IMPORTED_MESSAGES)
    ]
    current_node: Annotated[str, Field(max_length=200)] | None = None


class ChatImport(
    RootModel[
        QueueChatImport
        | ChatGptConversation
        | Annotated[list[ChatGptConversation], Field(min_length=1, max_length=MAX_IMPORTED_CHATS)]
    ]
):
    """``POST /api/sessions/import``: a QueueChat export, a ChatGPT conversation, or ChatGPT's
    list of them (``conversations.json``); at most 50 chats of 1,000 messages each."""


class ImportedChats(BaseModel):
    items: list[SessionOut]  # in the order given
