"""Usage: your own (with your budget), everyone's for admins (by day, user, key and model; CSV)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_query, require_admin, respond, signed_in_user
from app.api.openapi import documented
from app.errors import InvalidInput
from app.extensions import get_db
from app.schemas.usage import (
    AdminUsage,
    AdminUsageQuery,
    BudgetStatus,
    DayUsage,
    KeyUsage,
    ModelUsage,
    MyUsage,
    TokenTotalsOut,
    UsageQuery,
    UserUsage,
)
from app.services import usage
from app.services.budgets import budget_state
from app.services.csv_export import csv_lines

bp = Blueprint("usage", __name__)


def totals_out(totals: usage.Totals) -> dict[str, int]:
    return {
        "requests": totals.requests,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "total_tokens": totals.total_tokens,
    }


def window(query: UsageQuery, user_id: int | None) -> usage.UsageFilter:
    """The days asked for: by default the last 30 (UTC), at most MAX_REPORT_DAYS."""
    first, today = usage.default_window()
    try:
        end = query.end or today
        start = query.start or end - (today - first)
    except OverflowError as exc:  # a day before the year 1
        raise InvalidInput("start is out of range") from exc
    if start > end:
        raise InvalidInput("start must not be after end")
    if end - start >= timedelta(days=usage.MAX_REPORT_DAYS):
        raise InvalidInput(f"a report covers at most {usage.MAX_REPORT_DAYS} days")
    return usage.UsageFilter(start, end, user_id, query.api_key_id, query.model)


def report(where: usage.UsageFilter) -> dict[str, Any]:
    db = get_db()
    return {
        "start": where.start,
        "end": where.end,
        "totals": TokenTotalsOut(**totals_out(usage.totals(db, where))),
        "by_day": [DayUsage(day=d, **totals_out(t)) for d, t in usage.by_day(db, where)],
        "by_model": [ModelUsage(model=m, **totals_out(t)) for m, t in usage.by_model(db, where)],
        "by_key": [
            KeyUsage(api_key_id=k, api_key_name=n, **totals_out(t))
            for k, n, t in usage.by_key(db, where)
        ],
    }


@bp.get("/api/usage")
@jwt_required()
@documented(summary="Your token usage by day, model and API key, and your budget",
            query=UsageQuery, response=MyUsage)  # fmt: skip
def my_usage() -> tuple[Response, int]:
    user = signed_in_user()
    where = window(parse_query(UsageQuery), user.id)
    state = budget_state(get_db(), user.id)
    budget = BudgetStatus(
        daily_limit=state.limits.daily_tokens,
        daily_used=state.daily_used,
        daily_resets_at=state.daily_resets_at,
        monthly_limit=state.limits.monthly_tokens,
        monthly_used=state.monthly_used,
        monthly_resets_at=state.monthly_resets_at,
        reserved=state.reserved,
    )
    return respond(MyUsage(**report(where), budget=budget))


@bp.get("/api/admin/usage")
@jwt_required()
@documented(summary="Everyone's token usage by day, user, model and API key (admins only)",
            query=AdminUsageQuery, response=AdminUsage)  # fmt: skip
def all_usage() -> tuple[Response, int]:
    require_admin()
    query = parse_query(AdminUsageQuery)
    where = window(query, query.user_id)
    by_user = [
        UserUsage(user_id=u, username=name, **totals_out(t))
        for u, name, t in usage.by_user(get_db(), where)
    ]
    return respond(AdminUsage(**report(where), by_user=by_user))


@bp.get("/api/admin/usage/export")
@jwt_required()
@documented(summary="Usage as CSV: a row per day, user, API key, model and kind (admins only)",
            query=AdminUsageQuery)  # fmt: skip
def export_usage() -> Response:
    require_admin()
    query = parse_query(AdminUsageQuery)
    where = window(query, query.user_id)
    rows = list(usage.detail_rows(get_db(), where))  # read within the request's session
    response = Response(csv_lines(rows, usage.CSV_COLUMNS), mimetype="text/csv")
    name = f"usage-{where.start.isoformat()}-{where.end.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
