"""Admin: list accounts, change a role, deactivate or reactivate an account."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required
from sqlalchemy import select

from app.api.admin_schemas import UserList, UserPatch
from app.api.openapi import documented
from app.api.schemas import UserOut
from app.api.validation import parse_body, respond
from app.errors import Conflict, NotFound
from app.extensions import get_db
from app.models import User
from app.security import require_admin

bp = Blueprint("admin_users", __name__, url_prefix="/api/admin/users")


@bp.get("")
@jwt_required()
@documented(summary="List all accounts (admins only)", response=UserList)
def list_users() -> tuple[Response, int]:
    require_admin()
    rows = get_db().scalars(select(User).order_by(User.id))
    return respond(UserList(items=[UserOut.model_validate(row) for row in rows]))


@bp.patch("/<int:user_id>")
@jwt_required()
@documented(summary="Change an account's role or active flag (admins only)", body=UserPatch,
            response=UserOut)  # fmt: skip
def update_user(user_id: int) -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(UserPatch)
    db = get_db()
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    if user.id == admin.id and (body.role == "user" or body.active is False):
        raise Conflict("you cannot demote or deactivate your own account")
    if body.role is not None:
        user.role = body.role
    if body.active is not None:
        user.active = body.active
    db.commit()
    return respond(UserOut.model_validate(user))
