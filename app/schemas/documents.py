"""Bodies of knowledge-base documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.enums import DocumentStatus
from app.schemas.common import Out, Timestamp


class DocumentOut(Out):
    id: int
    title: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str
    metadata: dict[str, Any] = Field(validation_alias="meta")
    status: DocumentStatus
    progress: float
    chunks_done: int
    chunk_count: int
    error: str | None
    created_at: Timestamp
    updated_at: Timestamp


class DocumentList(BaseModel):
    items: list[DocumentOut]


class RejectedFile(BaseModel):
    """A file of an upload that was not taken, and why (the status it would have alone)."""

    name: str
    status: int = Field(examples=[415])
    code: str = Field(examples=["unsupported_document"])
    message: str
    existing_document_id: int | None = None  # a duplicate: the document with the same content


class UploadResult(BaseModel):
    """The files taken (queued for ingest) and, file by file, those refused."""

    items: list[DocumentOut]
    rejected: list[RejectedFile] = Field(default_factory=list)
