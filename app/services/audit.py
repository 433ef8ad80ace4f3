"""The audit log: append-only, each event written in the transaction of the action it records.

``record`` adds the event to the session's pending list; it is written by the same commit as
the action (a rolled-back action leaves no event). A target may be a row, or a model class:
an event for each row of that class the transaction creates, with its id (known at the commit).
Never any message content.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session

from app.db import Base
from app.models import User, as_utc
from app.records import AuditEvent

PENDING = "queuechat.audit"
MAX_NAME = 64
CSV_COLUMNS = (
    "id", "created_at", "actor_id", "actor_name", "action", "target_type", "target_id", "ip",
    "details",
)  # fmt: skip


class Action:
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    ROLE_CHANGED = "user.role_changed"
    ACTIVATED = "user.activated"
    DEACTIVATED = "user.deactivated"
    CHAT_DELETED = "chat.deleted"
    CHAT_SHARED = "chat.shared"
    SHARE_REVOKED = "chat.share_revoked"
    DOCUMENT_UPLOADED = "document.uploaded"
    DOCUMENT_DELETED = "document.deleted"
    DOCUMENT_REINDEXED = "document.reindexed"
    TEMPLATE_CREATED = "template.created"
    TEMPLATE_UPDATED = "template.updated"
    TEMPLATE_EXAMPLES = "template.examples_replaced"
    TEMPLATE_DEFAULT = "template.made_default"
    TEMPLATE_DELETED = "template.deleted"
    KEY_CREATED = "api_key.created"
    KEY_REVOKED = "api_key.revoked"
    BUDGET_CHANGED = "budget.changed"
    BUDGET_CLEARED = "budget.cleared"
    CONTENT_BLOCKED = "content.blocked"  # what the content policy withheld (its rule, no text)


ACTIONS = tuple(value for name, value in vars(Action).items() if name.isupper())


@dataclass
class Pending:
    action: str
    actor_id: int | None
    actor_name: str | None
    target_type: str | None
    target: Base | type[Base] | int | None
    details: dict[str, Any] = field(default_factory=dict)
    ip: str | None = None


def record(
    db: Session,
    action: str,
    actor: User | None,
    *,
    target_type: str | None = None,
    target: Base | type[Base] | int | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_name: str | None = None,
) -> None:
    """Adds an event that the session's next commit writes, with the action."""
    _listen()
    db.info.setdefault(PENDING, []).append(
        Pending(
            action,
            actor.id if actor is not None else None,
            (actor.username if actor is not None else actor_name or "")[:MAX_NAME] or None,
            target_type,
            target,
            details or {},
            ip[:64] if ip else None,
        )
    )


def record_blocks(
    db: Session, owner_id: int, target_type: str, target: int, blocked: list[dict[str, Any]]
) -> None:
    """One event per content-policy decision that withheld something from a user's reply or
    request in a worker (retrieved chunks, the output): the stage and rule, never the text."""
    owner = db.get(User, owner_id) if blocked and owner_id else None
    for details in blocked:
        record(db, Action.CONTENT_BLOCKED, owner, target_type=target_type, target=target,
               details=details)  # fmt: skip


def _listen() -> None:
    if not event.contains(Session, "before_commit", _write_pending):
        event.listen(Session, "before_commit", _write_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)


def _write_pending(session: Session) -> None:
    pending: list[Pending] = session.info.pop(PENDING, [])
    if not pending:
        return
    created = list(session.new)
    session.flush()  # rows this transaction creates get their ids
    for p in pending:
        targets: list[Any]
        if isinstance(p.target, type):
            targets = [row for row in created if isinstance(row, p.target)]
        else:
            targets = [p.target]
        for target in targets:
            target_id = getattr(target, "id", None) if isinstance(target, Base) else target
            session.add(
                AuditEvent(
                    actor_id=p.actor_id,
                    actor_name=p.actor_name,
                    action=p.action,
                    target_type=p.target_type,
                    target_id=target_id,
                    details=p.details,
                    ip=p.ip,
                )
            )


def _drop_pending(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_id: int | None = None
    target_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.action is not None:
        query = query.where(AuditEvent.action == where.action)
    if where.actor_id is not None:
        query = query.where(AuditEvent.actor_id == where.actor_id)
    if where.target_type is not None:
        query = query.where(AuditEvent.target_type == where.target_type)
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    return query


def list_events(db: Session, where: AuditFilter, limit: int, offset: int) -> Sequence[AuditEvent]:
    """Newest first."""
    query = _filtered(select(AuditEvent), where).order_by(AuditEvent.id.desc())
    return db.scalars(query.limit(limit).offset(offset)).all()


def export_rows(db: Session, where: AuditFilter) -> Iterator[dict[str, Any]]:
    """Every matching event, oldest first, as CSV rows (read in pages, not all at once)."""
    last = 0
    while True:
        page = db.scalars(
            _filtered(select(AuditEvent), where)
            .where(AuditEvent.id > last)
            .order_by(AuditEvent.id)
            .limit(500)
        ).all()
        if not page:
            return
        for row in page:
            yield {
                "id": row.id,
                "created_at": as_utc(row.created_at).isoformat().replace("+00:00", "Z"),
                "actor_id": row.actor_id,
                "actor_name": row.actor_name,
                "action": row.action,
                "target_type": row.target_type,
                "target_id": row.target_id,
                "ip": row.ip,
                "details": _details_text(row.details),
            }
        last = page[-1].id


def _details_text(details: dict[str, Any]) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted((details or {}).items()))
