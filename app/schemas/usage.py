"""Bodies of usage reports, token budgets and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import MAX_ROW_ID, Body, Input, Out, QueryDate, QueryMoment, Timestamp

MAX_BUDGET = 10**12
BudgetTokens = Field(default=None, ge=1, le=MAX_BUDGET)


class UsageQuery(Input):
    model_config = ConfigDict(extra="forbid")
    start: QueryDate | None = Field(
        default=None, description="first day (UTC), default 29 days ago"
    )
    end: QueryDate | None = Field(default=None, description="last day (UTC), default today")
    api_key_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    model: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def window(self) -> UsageQuery:
        if self.start and self.end and self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class AdminUsageQuery(UsageQuery):
    user_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)


class TokenTotalsOut(BaseModel):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class DayUsage(TokenTotalsOut):
    day: dt.date


class ModelUsage(TokenTotalsOut):
    model: str


class KeyUsage(TokenTotalsOut):
    api_key_id: int | None = Field(description="null: the web UI and access tokens")
    api_key_name: str | None


class UserUsage(TokenTotalsOut):
    user_id: int
    username: str


class BudgetStatus(BaseModel):
    daily_limit: int | None
    daily_used: int
    daily_resets_at: Timestamp
    monthly_limit: int | None
    monthly_used: int
    monthly_resets_at: Timestamp
    reserved: int = Field(description="completion tokens held by queued and running work")


class UsageReport(BaseModel):
    start: dt.date
    end: dt.date
    totals: TokenTotalsOut
    by_day: list[DayUsage]
    by_model: list[ModelUsage]
    by_key: list[KeyUsage]


class MyUsage(UsageReport):
    budget: BudgetStatus


class AdminUsage(UsageReport):
    by_user: list[UserUsage]


class BudgetIn(Body):
    daily_tokens: int | None = BudgetTokens
    monthly_tokens: int | None = BudgetTokens


class BudgetOut(Out):
    daily_tokens: int | None
    monthly_tokens: int | None
    updated_at: Timestamp


class UserBudgetOut(BudgetOut):
    user_id: int
    username: str


class BudgetList(BaseModel):
    default: BudgetOut
    users: list[UserBudgetOut]


class AuditQuery(Input):
    model_config = ConfigDict(extra="forbid")
    action: str | None = Field(default=None, min_length=1, max_length=40)
    actor_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    target_type: str | None = Field(default=None, min_length=1, max_length=32)
    since: QueryMoment | None = None
    until: QueryMoment | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_ROW_ID)


class AuditEventOut(Out):
    id: int
    created_at: Timestamp
    actor_id: int | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: int | None
    details: dict[str, Any]
    ip: str | None


class AuditList(BaseModel):
    items: list[AuditEventOut]
    actions: list[str] = Field(description="every action the log records (for filters)")
