"""Bodies of files attached in a chat."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.enums import DocumentStatus
from app.schemas.common import Out, Timestamp
from app.schemas.documents import RejectedFile


class ChatFileOut(Out):
    id: int
    session_id: int
    message_id: int | None = Field(description="the question it was sent with; None: not yet")
    title: str
    original_name: str
    content_type: str
    size_bytes: int
    status: DocumentStatus = Field(description="queued, extracting, embedding, ready or error")
    progress: float
    error: str | None
    created_at: Timestamp


class ChatFileList(BaseModel):
    items: list[ChatFileOut]


class ChatFileUpload(BaseModel):
    """The files taken (queued for reading) and, file by file, those refused."""

    items: list[ChatFileOut]
    rejected: list[RejectedFile] = Field(default_factory=list)
