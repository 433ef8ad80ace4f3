"""The states and roles stored in status and role columns; the API spec carries them as enums."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    DONE = "done"
    CANCELLED = "cancelled"
    ERROR = "error"
    FILTERED = "filtered"  # the content policy stopped the reply; its text is withheld


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
    EXPIRED = "expired"  # a Batch API batch past its completion window: what was left, dropped
    FAILED = "failed"  # a Batch API batch whose input file did not validate (nothing queued)


# a batch that takes no more work; its running items still finish
CLOSING_BATCH_STATUSES = frozenset({BatchStatus.DONE, BatchStatus.CANCELLED, BatchStatus.EXPIRED})


class ItemStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset(
    {MessageStatus.DONE, MessageStatus.CANCELLED, MessageStatus.ERROR, MessageStatus.FILTERED}
)

OPEN_STATUSES = frozenset({MessageStatus.QUEUED, MessageStatus.GENERATING})

FINAL_ITEM_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.CANCELLED})

OPEN_ITEM_STATUSES = frozenset({ItemStatus.QUEUED, ItemStatus.RUNNING})
