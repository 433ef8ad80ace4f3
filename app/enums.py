"""The states and roles stored in status and role columns; the API spec carries them as enums."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    DONE = "done"
    CANCELLED = "cancelled"
    ERROR = "error"


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    EXTRACTING = "extracting"
    EMBEDDING = "embedding"
    READY = "ready"
    ERROR = "error"


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({MessageStatus.DONE, MessageStatus.CANCELLED, MessageStatus.ERROR})

OPEN_STATUSES = frozenset({MessageStatus.QUEUED, MessageStatus.GENERATING})

FINAL_ITEM_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.CANCELLED})

OPEN_ITEM_STATUSES = frozenset({ItemStatus.QUEUED, ItemStatus.RUNNING})
