"""Admin: token budgets, everyone's default and each user's own (daily and monthly)."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required
from sqlalchemy import select

from app.api.deps import parse_body, require_admin, respond
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.extensions import get_db
from app.records import TokenBudget
from app.schemas.usage import BudgetIn, BudgetList, BudgetOut, UserBudgetOut
from app.services import audit, budgets
from app.services.audit import Action
from app.services.ownership import user_or_404

bp = Blueprint("admin_budgets", __name__, url_prefix="/api/admin/budgets")


def budget_list() -> BudgetList:
    db = get_db()
    return BudgetList(
        default=BudgetOut.model_validate(budgets.default_budget(db)),
        users=[
            UserBudgetOut(
                user_id=int(row.user_id or 0),
                username=name,
                daily_tokens=row.daily_tokens,
                monthly_tokens=row.monthly_tokens,
                updated_at=row.updated_at,
            )
            for row, name in budgets.user_budgets(db)
        ],
    )


def limits_of(row: TokenBudget | None) -> dict[str, int | None]:
    if row is None:
        return {"daily_tokens": None, "monthly_tokens": None}
    return {"daily_tokens": row.daily_tokens, "monthly_tokens": row.monthly_tokens}


@bp.get("")
@jwt_required()
@documented(summary="The default budget and users' own budgets (admins only)",
            response=BudgetList)  # fmt: skip
def list_budgets() -> tuple[Response, int]:
    require_admin()
    return respond(budget_list())


@bp.put("/default")
@jwt_required()
@documented(summary="Set everyone's default budget; null is no limit (admins only)",
            body=BudgetIn, response=BudgetList)  # fmt: skip
def set_default() -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(BudgetIn)
    db = get_db()
    before = limits_of(budgets.default_budget(db))
    budgets.set_budget(db, None, body.daily_tokens, body.monthly_tokens)
    audit.record(db, Action.BUDGET_CHANGED, admin, target_type="default_budget",
                 details={"before": before, "after": body.model_dump()},
                 ip=client_address())  # fmt: skip
    db.commit()
    return respond(budget_list())


@bp.put("/users/<int:user_id>")
@jwt_required()
@documented(summary="Set a user's own budget, in place of the default; null is no limit "
            "(admins only)", body=BudgetIn, response=BudgetList)  # fmt: skip
def set_user_budget(user_id: int) -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(BudgetIn)
    db = get_db()
    user = user_or_404(db, user_id)
    own = db.scalar(select(TokenBudget).where(TokenBudget.user_id == user.id))
    before = limits_of(own)
    budgets.set_budget(db, user.id, body.daily_tokens, body.monthly_tokens)
    audit.record(db, Action.BUDGET_CHANGED, admin, target_type="user", target=user.id,
                 details={"before": before if own else "default", "after": body.model_dump()},
                 ip=client_address())  # fmt: skip
    db.commit()
    return respond(budget_list())


@bp.delete("/users/<int:user_id>")
@jwt_required()
@documented(summary="A user's own budget removed: the default applies (admins only)",
            response=BudgetList)  # fmt: skip
def clear_user_budget(user_id: int) -> tuple[Response, int]:
    admin = require_admin()
    db = get_db()
    user = user_or_404(db, user_id)
    if budgets.clear_budget(db, user.id):
        audit.record(db, Action.BUDGET_CLEARED, admin, target_type="user", target=user.id,
                     ip=client_address())  # fmt: skip
        db.commit()
    return respond(budget_list())
