"""Usage accounting: one record per finished generation, written in the transaction of its
final state; reports by day, user, API key and model; CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.api_keys_table import ApiKey
from app.models import User, utcnow
from app.records import UsageRecord

MAX_REPORT_DAYS = 366
CSV_COLUMNS = (
    "day", "user_id", "username", "api_key_id", "api_key_name", "model", "kind", "requests",
    "prompt_tokens", "completion_tokens", "total_tokens",
)  # fmt: skip


def record_usage(
    session: Session,
    owner: tuple[int, int | None],
    kind: str,
    job_id: int,
    model_name: str,
    tokens: tuple[int | None, int | None],
) -> None:
    """Adds the record of a generation to its final write's transaction; nothing for one that
    never reached the model. ``owner``: the user and the API key; ``tokens``: prompt, completion.
    """
    prompt_tokens, completion_tokens = tokens
    if not prompt_tokens and not completion_tokens:
        return
    now = utcnow()
    session.add(
        UsageRecord(
            user_id=owner[0],
            api_key_id=owner[1],
            kind=kind,
            job_id=job_id,
            model_name=model_name,
            prompt_tokens=int(prompt_tokens or 0),
            completion_tokens=int(completion_tokens or 0),
            day=now.astimezone(UTC).date(),
            created_at=now,
        )
    )


@dataclass(frozen=True)
class UsageFilter:
    start: date
    end: date  # inclusive
    user_id: int | None = None
    api_key_id: int | None = None
    model: str | None = None


def default_window(days: int = 30) -> tuple[date, date]:
    today = utcnow().astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


def _filtered(query: Select[Any], where: UsageFilter) -> Select[Any]:
    query = query.where(UsageRecord.day >= where.start, UsageRecord.day <= where.end)
    if where.user_id is not None:
        query = query.where(UsageRecord.user_id == where.user_id)
    if where.api_key_id is not None:
        query = query.where(UsageRecord.api_key_id == where.api_key_id)
    if where.model is not None:
        query = query.where(UsageRecord.model_name == where.model)
    return query


def _sums() -> tuple[Any, ...]:
    return (
        func.count(UsageRecord.id),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
    )


@dataclass(frozen=True)
class Totals:
    requests: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _totals(row: Sequence[Any]) -> Totals:
    return Totals(int(row[0]), int(row[1]), int(row[2]))


def totals(db: Session, where: UsageFilter) -> Totals:
    return _totals(db.execute(_filtered(select(*_sums()), where)).one())


def by_day(db: Session, where: UsageFilter) -> list[tuple[date, Totals]]:
    """Every day of the window, days without use as zeros (a chart's x axis)."""
    rows = db.execute(
        _filtered(select(UsageRecord.day, *_sums()), where).group_by(UsageRecord.day)
    ).all()
    found = {_as_date(row[0]): _totals(row[1:]) for row in rows}
    days = (where.end - where.start).days + 1
    every = (where.start + timedelta(days=n) for n in range(days))
    return [(day, found.get(day, Totals(0, 0, 0))) for day in every]


def by_model(db: Session, where: UsageFilter) -> list[tuple[str, Totals]]:
    rows = db.execute(
        _filtered(select(UsageRecord.model_name, *_sums()), where)
        .group_by(UsageRecord.model_name)
        .order_by(UsageRecord.model_name)
    ).all()
    return [(str(row[0]), _totals(row[1:])) for row in rows]


def by_key(db: Session, where: UsageFilter) -> list[tuple[int | None, str | None, Totals]]:
    """Per API key (None: the web UI and access tokens), with the key's name."""
    rows = db.execute(
        _filtered(select(UsageRecord.api_key_id, ApiKey.name, *_sums()), where)
        .outerjoin(ApiKey, ApiKey.id == UsageRecord.api_key_id)
        .group_by(UsageRecord.api_key_id, ApiKey.name)
        .order_by(UsageRecord.api_key_id)
    ).all()
    return [(row[0], row[1], _totals(row[2:])) for row in rows]


def by_user(db: Session, where: UsageFilter) -> list[tuple[int, str, Totals]]:
    rows = db.execute(
        _filtered(select(UsageRecord.user_id, User.username, *_sums()), where)
        .join(User, User.id == UsageRecord.user_id)
        .group_by(UsageRecord.user_id, User.username)
        .order_by(User.username)
    ).all()
    return [(int(row[0]), str(row[1]), _totals(row[2:])) for row in rows]


def detail_rows(db: Session, where: UsageFilter) -> Iterator[dict[str, Any]]:
    """One row per day, user, API key, model and kind: what the CSV export holds."""
    query = (
        _filtered(
            select(
                UsageRecord.day,
                UsageRecord.user_id,
                User.username,
                UsageRecord.api_key_id,
                ApiKey.name,
                UsageRecord.model_name,
                UsageRecord.kind,
                *_sums(),
            ),
            where,
        )
        .join(User, User.id == UsageRecord.user_id)
        .outerjoin(ApiKey, ApiKey.id == UsageRecord.api_key_id)
        .group_by(
            UsageRecord.day,
            UsageRecord.user_id,
            User.username,
            UsageRecord.api_key_id,
            ApiKey.name,
            UsageRecord.model_name,
            UsageRecord.kind,
        )
        .order_by(UsageRecord.day, User.username, UsageRecord.api_key_id, UsageRecord.model_name)
    )
    for row in db.execute(query):
        sums = _totals(row[7:])
        yield {
            "day": _as_date(row[0]).isoformat(),
            "user_id": int(row[1]),
            "username": str(row[2]),
            "api_key_id": row[3],
            "api_key_name": row[4],
            "model": str(row[5]),
            "kind": str(row[6]),
            "requests": sums.requests,
            "prompt_tokens": sums.prompt_tokens,
            "completion_tokens": sums.completion_tokens,
            "total_tokens": sums.total_tokens,
        }


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
