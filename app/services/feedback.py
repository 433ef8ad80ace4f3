"""Feedback on replies: a user rates their own finished replies; admins read, filter and export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.enums import FINAL_STATUSES, MessageRole, Rating
from app.errors import Conflict, NotFound
from app.models import Message, PromptTemplate, User, as_utc, utcnow
from app.services.ownership import owned_message
from app.workspace_models import Feedback

EXCERPT_CHARS = 500
CSV_COLUMNS = ("id", "created_at", "username", "rating", "comment", "template", "model",
               "message_id", "question", "reply")  # fmt: skip


def rate_reply(
    db: Session, user_id: int, message_id: int, rating: Rating, comment: str | None
) -> Feedback:
    """Sets (or changes) the user's rating of their reply; 404 for anyone else's message."""
    message = owned_message(db, user_id, message_id)
    if message.role != MessageRole.ASSISTANT:
        raise NotFound("reply not found")
    if message.status not in FINAL_STATUSES:
        raise Conflict("the reply is still being written; rate it when it has finished")
    template = reply_template(db, message.session.template_id)
    row = message.feedback or Feedback(message_id=message.id, owner_id=user_id)
    row.rating, row.comment = rating, comment or None
    row.template_id = template.id if template else None
    row.template_name = template.name if template else None
    row.model_name = message.model_name
    row.updated_at = utcnow()
    message.feedback = row
    db.commit()
    return row


def reply_template(db: Session, chosen_id: int | None) -> PromptTemplate | None:
    """The template a chat's replies use: its own while active, else the default one."""
    template = db.get(PromptTemplate, chosen_id) if chosen_id is not None else None
    if template is not None and template.active:
        return template
    default = select(PromptTemplate).where(PromptTemplate.is_default, PromptTemplate.active)
    return db.scalars(default.order_by(PromptTemplate.id).limit(1)).first()


def withdraw_rating(db: Session, user_id: int, message_id: int) -> None:
    message = owned_message(db, user_id, message_id)
    if message.feedback is None:
        raise NotFound("this reply has no feedback")
    message.feedback = None
    db.commit()


@dataclass(frozen=True)
class FeedbackFilter:
    rating: Rating | None = None
    template_id: int | None = None
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FeedbackRow:
    feedback: Feedback
    username: str
    question: str
    reply: str


def _conditions(where: FeedbackFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.rating is not None:
        found.append(Feedback.rating == where.rating)
    if where.template_id is not None:
        found.append(Feedback.template_id == where.template_id)
    if where.model is not None:
        found.append(Feedback.model_name == where.model)
    if where.since is not None:
        found.append(Feedback.created_at >= where.since)
    if where.until is not None:
        found.append(Feedback.created_at < where.until)
    return found


def count_feedback(db: Session, where: FeedbackFilter) -> tuple[int, int]:
    """(thumbs up, thumbs down) among the rows the filter keeps."""
    query = select(Feedback.rating, func.count()).where(*_conditions(where))
    counts = {Rating(rating): int(n) for rating, n in db.execute(query.group_by(Feedback.rating))}
    return counts.get(Rating.UP, 0), counts.get(Rating.DOWN, 0)


def list_feedback(
    db: Session, where: FeedbackFilter, limit: int | None, offset: int = 0
) -> list[FeedbackRow]:
    """Newest first, each with its author and the reply's text and the question before it."""
    query = select(Feedback).where(*_conditions(where))
    query = query.order_by(Feedback.created_at.desc(), Feedback.id.desc())
    rows = db.scalars(query.limit(limit).offset(offset)).all()
    return [_described(db, row) for row in rows]


def _described(db: Session, row: Feedback) -> FeedbackRow:
    reply = db.get(Message, row.message_id)
    asked = reply.parent if reply is not None else None
    question = asked.content if asked is not None and asked.role == MessageRole.USER else ""
    user = db.get(User, row.owner_id)
    return FeedbackRow(
        feedback=row,
        username=user.username if user else "",
        question=question[:EXCERPT_CHARS],
        reply=(reply.content if reply else "")[:EXCERPT_CHARS],
    )


def rated_models(db: Session) -> list[str]:
    """The models that have feedback, for the admin view's filter."""
    query = select(Feedback.model_name).where(Feedback.model_name.is_not(None)).distinct()
    return sorted(name for name in db.scalars(query) if name)


def _cell(value: object) -> str:
    """A spreadsheet must not run user text as a formula (=, +, -, @ and the like)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def feedback_csv(db: Session, where: FeedbackFilter) -> Iterator[str]:
    """The filtered feedback as CSV, a header first, in pages so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    offset, page = 0, 500
    while True:
        rows = list_feedback(db, where, page, offset)
        for item in rows:
            row = item.feedback
            writer.writerow(
                _cell(value)
                for value in (
                    row.id, as_utc(row.created_at).isoformat(), item.username, row.rating,
                    row.comment, row.template_name, row.model_name, row.message_id,
                    item.question, item.reply,
                )  # fmt: skip
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < page:
            return
        offset += page

