"""The OpenAI Files API's files: Batch API inputs a user uploads and the results a batch leaves.

Ids are OpenAI-shaped (``file-12``); another user's file, a malformed id and a missing row all
answer the same 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api_files_table import ApiFile
from app.config import Settings
from app.errors import Conflict, InvalidInput, NotFound, UnsupportedParameter, UploadTooLarge

BATCH_INPUT = "batch"
BATCH_OUTPUT = "batch_output"
# the purposes OpenAI has that this server does not serve (no assistants, fine-tuning, vision)
OTHER_PURPOSES = ("assistants", "fine-tune", "vision", "user_data", "evals")
_FILE_ID = re.compile(r"file-([1-9][0-9]{0,17})")


def file_id(row_id: int) -> str:
    return f"file-{row_id}"


def parse_file_id(text: str) -> int:
    """The row id in ``file-<n>``; anything else is a file that does not exist."""
    match = _FILE_ID.fullmatch(text)
    if match is None:
        raise NotFound("file not found")
    return int(match.group(1))


def owned_file(db: Session, user_id: int, text_id: str) -> ApiFile:
    row = db.get(ApiFile, parse_file_id(text_id))
    if row is None or row.owner_id != user_id:
        raise NotFound("file not found")
    return row


def create_file(
    db: Session, settings: Settings, user_id: int, filename: str, data: bytes, purpose: str
) -> ApiFile:
    """Stores an upload; only Batch API inputs are taken, within the batch file limits."""
    if purpose in OTHER_PURPOSES or purpose == BATCH_OUTPUT:
        raise UnsupportedParameter(
            f"purpose {purpose!r} is not supported by this server: only 'batch'", param="purpose"
        )
    if purpose != BATCH_INPUT:
        raise InvalidInput(f"purpose must be 'batch', not {purpose!r}")
    if len(data) > settings.batch_max_bytes:
        raise UploadTooLarge(f"the file is over {settings.batch_max_bytes} bytes")
    if not data:
        raise InvalidInput("the file is empty")
    held = db.scalar(select(func.count()).select_from(ApiFile).where(ApiFile.owner_id == user_id))
    if int(held or 0) >= settings.max_api_files_per_user:
        raise Conflict(
            f"you have {settings.max_api_files_per_user} files, the most one user keeps; "
            "delete some first"
        )
    row = ApiFile(
        owner_id=user_id,
        purpose=purpose,
        filename=filename[:300] or "upload.jsonl",
        size_bytes=len(data),
        content=data,
    )
    db.add(row)
    db.commit()
    return row


def store_result_file(db: Session, user_id: int, filename: str, data: bytes) -> ApiFile:
    """A batch's output or error file, in the caller's transaction (the batch's final write)."""
    row = ApiFile(
        owner_id=user_id,
        purpose=BATCH_OUTPUT,
        filename=filename,
        size_bytes=len(data),
        content=data,
    )
    db.add(row)
    db.flush()
    return row


def list_files(
    db: Session,
    user_id: int,
    *,
    purpose: str | None,
    limit: int,
    after: str | None,
    order: Literal["asc", "desc"],
) -> tuple[Sequence[ApiFile], bool]:
    """A page of the user's files and whether more follow (``after``: the last id seen)."""
    query = select(ApiFile).where(ApiFile.owner_id == user_id)
    if purpose is not None:
        query = query.where(ApiFile.purpose == purpose)
    if after is not None:
        cursor = parse_cursor(after, parse_file_id)
        query = query.where(ApiFile.id > cursor if order == "asc" else ApiFile.id < cursor)
    query = query.order_by(ApiFile.id.asc() if order == "asc" else ApiFile.id.desc())
    rows = db.scalars(query.limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit


def parse_cursor(after: str, parse: Callable[[str], int]) -> int:
    """A list's ``after``: an id of the same kind; a malformed one is a bad request."""
    try:
        return parse(after)
    except NotFound as exc:
        raise InvalidInput(f"after: {after!r} is not an id of this list") from exc


def delete_file(db: Session, user_id: int, text_id: str) -> int:
    row = owned_file(db, user_id, text_id)
    row_id = row.id
    db.delete(row)
    db.commit()
    return row_id
