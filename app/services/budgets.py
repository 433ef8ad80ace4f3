"""Token budgets: daily and monthly, per user with a default for everyone; checked before a
job is queued (429 with the reset time) and turned into the job's completion allowance.

A budget counts prompt and completion tokens of finished generations (usage_records). A job
queued under a budget reserves its completion tokens (its max_tokens, capped by what is left)
until it ends, so simultaneous requests cannot spend the same tokens twice; the prompt tokens
of jobs already queued are known only once they run, so a budget can be passed by at most those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from app.enums import OPEN_ITEM_STATUSES, OPEN_STATUSES
from app.errors import TooManyRequests
from app.metrics import count_budget_refusal
from app.models import BatchItem, ChatSession, Message, User, utcnow
from app.records import TokenBudget, UsageRecord

BUDGET_FINISH_REASON = "budget"  # finish_reason of a reply that stopped at its user's budget


class BudgetExceeded(TooManyRequests, status=429, code="budget_exceeded"):
    """The user's daily or monthly token budget is spent (or held by their open work)."""


@dataclass(frozen=True)
class Limits:
    daily_tokens: int | None
    monthly_tokens: int | None
    own: bool  # the user's own row, not the default


@dataclass(frozen=True)
class BudgetState:
    limits: Limits
    daily_used: int
    monthly_used: int
    reserved: int
    daily_resets_at: datetime
    monthly_resets_at: datetime

    def left(self) -> int | None:
        """Tokens that a new job may still reserve; None when nothing limits the user."""
        lefts = [
            limit - used - self.reserved
            for limit, used in (
                (self.limits.daily_tokens, self.daily_used),
                (self.limits.monthly_tokens, self.monthly_used),
            )
            if limit is not None
        ]
        return max(0, min(lefts)) if lefts else None

    def resets_at(self) -> datetime:
        """When the spent period(s) start again (the later one when both are spent)."""
        moments = []
        daily, monthly = self.limits.daily_tokens, self.limits.monthly_tokens
        if daily is not None and self.daily_used + self.reserved >= daily:
            moments.append(self.daily_resets_at)
        if monthly is not None and self.monthly_used + self.reserved >= monthly:
            moments.append(self.monthly_resets_at)
        return max(moments, default=self.daily_resets_at)


def next_day(today: date) -> datetime:
    return datetime.combine(today + timedelta(days=1), time(), UTC)


def next_month(today: date) -> datetime:
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return datetime.combine(first, time(), UTC)


def default_budget(db: Session) -> TokenBudget:
    """Everyone's default (the migration creates it; a database made otherwise gets it here)."""
    row = db.scalar(select(TokenBudget).where(TokenBudget.user_id.is_(None)).limit(1))
    if row is None:
        row = TokenBudget(user_id=None)
        db.add(row)
        db.flush()
    return row


def limits_for(db: Session, user_id: int) -> Limits:
    rows = db.scalars(
        select(TokenBudget).where(
            or_(TokenBudget.user_id == user_id, TokenBudget.user_id.is_(None))
        )
    ).all()
    own = next((row for row in rows if row.user_id == user_id), None)
    chosen = own or next((row for row in rows if row.user_id is None), None)
    if chosen is None:
        return Limits(None, None, own=False)
    return Limits(chosen.daily_tokens, chosen.monthly_tokens, own=own is not None)


def reserved_tokens(db: Session, user_id: int) -> int:
    """Completion tokens the user's queued and running jobs hold."""
    replies = (
        select(func.coalesce(func.sum(Message.reserved_tokens), 0))
        .join(ChatSession, ChatSession.id == Message.session_id)
        .where(ChatSession.owner_id == user_id, Message.status.in_(list(OPEN_STATUSES)))
        .scalar_subquery()
    )
    items = (
        select(func.coalesce(func.sum(BatchItem.reserved_tokens), 0))
        .where(BatchItem.owner_id == user_id, BatchItem.status.in_(list(OPEN_ITEM_STATUSES)))
        .scalar_subquery()
    )
    return int(db.scalar(select(replies + items)) or 0)


def budget_state(db: Session, user_id: int, now: datetime | None = None) -> BudgetState:
    today = (now or utcnow()).astimezone(UTC).date()
    month_start = today.replace(day=1)
    tokens = UsageRecord.prompt_tokens + UsageRecord.completion_tokens
    daily, monthly = db.execute(
        select(
            func.coalesce(func.sum(case((UsageRecord.day == today, tokens), else_=0)), 0),
            func.coalesce(func.sum(tokens), 0),
        ).where(UsageRecord.user_id == user_id, UsageRecord.day >= month_start)
    ).one()
    return BudgetState(
        limits_for(db, user_id),
        int(daily),
        int(monthly),
        reserved_tokens(db, user_id),
        next_day(today),
        next_month(today),
    )


def scope_of(state: BudgetState) -> str:
    return "user" if state.limits.own else "default"


def refuse(state: BudgetState, what: str) -> BudgetExceeded:
    resets = state.resets_at()
    count_budget_refusal(scope_of(state))
    return BudgetExceeded(
        f"{what}: your token budget is spent until {resets.isoformat().replace('+00:00', 'Z')}",
        retry_after=max(1, int((resets - utcnow()).total_seconds())),
        details={
            "resets_at": resets.isoformat().replace("+00:00", "Z"),
            "daily_limit": state.limits.daily_tokens,
            "daily_used": state.daily_used,
            "monthly_limit": state.limits.monthly_tokens,
            "monthly_used": state.monthly_used,
            "reserved": state.reserved,
        },
    )


def admit(db: Session, user_id: int, max_tokens: int) -> int | None:
    """The completion tokens a new job may spend (it stops there, finish_reason "budget");
    None when the user has no budget. 429 when nothing is left. Callers hold the quota lock."""
    state = budget_state(db, user_id)
    left = state.left()
    if left is None:
        return None
    if left <= 0:
        raise refuse(state, "the request was not queued")
    return min(max_tokens, left)


def admit_batch(db: Session, user_id: int, max_tokens: Sequence[int]) -> list[int | None]:
    """A batch is queued whole or not at all: every item's max_tokens must fit what is left."""
    state = budget_state(db, user_id)
    left = state.left()
    if left is None:
        return [None] * len(max_tokens)
    wanted = sum(max_tokens)
    if wanted > left:
        count_budget_refusal(scope_of(state))
        raise BudgetExceeded(
            f"this batch may use up to {wanted} completion tokens and your token budget has "
            f"{left} left; lower max_tokens or wait for the reset",
            retry_after=max(1, int((state.resets_at() - utcnow()).total_seconds())),
            details={"resets_at": state.resets_at().isoformat().replace("+00:00", "Z")},
        )
    return list(max_tokens)


def set_budget(
    db: Session, user_id: int | None, daily_tokens: int | None, monthly_tokens: int | None
) -> TokenBudget:
    """Sets the default (user_id None) or a user's own budget; the caller commits."""
    if user_id is None:
        row = default_budget(db)
    else:
        row = db.scalar(select(TokenBudget).where(TokenBudget.user_id == user_id)) or TokenBudget(
            user_id=user_id
        )
        db.add(row)
    row.daily_tokens, row.monthly_tokens = daily_tokens, monthly_tokens
    row.updated_at = utcnow()
    return row


def clear_budget(db: Session, user_id: int) -> bool:
    """The user goes back to the default; False when they had no budget of their own."""
    row = db.scalar(select(TokenBudget).where(TokenBudget.user_id == user_id))
    if row is None:
        return False
    db.delete(row)
    return True


def user_budgets(db: Session) -> Sequence[tuple[TokenBudget, str]]:
    """The users' own budgets with their usernames, by username."""
    rows = db.execute(
        select(TokenBudget, User.username)
        .join(User, User.id == TokenBudget.user_id)
        .order_by(User.username)
    ).all()
    return [(row[0], str(row[1])) for row in rows]
