"""Admin: list accounts, change a role, deactivate or reactivate an account."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_body, require_admin, respond
from app.api.openapi import documented
from app.enums import Role
from app.events import publish_account_notice
from app.extensions import get_db, resources
from app.models import User
from app.schemas.admin import UserList, UserPatch
from app.schemas.auth import UserOut
from app.services import accounts

bp = Blueprint("admin_users", __name__, url_prefix="/api/admin/users")


@bp.get("")
@jwt_required()
@documented(summary="List all accounts (admins only)", response=UserList)
def list_users() -> tuple[Response, int]:
    require_admin()
    rows = accounts.list_users(get_db())
    return respond(UserList(items=[UserOut.model_validate(row) for row in rows]))


@bp.patch("/<int:user_id>")
@jwt_required()
@documented(summary="Change an account's role or active flag (admins only)", body=UserPatch,
            response=UserOut)  # fmt: skip
def update_user(user_id: int) -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(UserPatch)
    role = Role(body.role) if body.role is not None else None
    before = get_db().get(User, user_id)
    was = (before.active, before.role) if before is not None else None
    user = accounts.update_user(get_db(), admin.id, user_id, role, body.active)
    if was is not None and was[0] and not user.active:  # its open sockets close now
        publish_account_notice(resources().redis, user.id, "deactivated")
    elif was is not None and user.active and was[1] != user.role:
        publish_account_notice(resources().redis, user.id, "role_changed")
    return respond(UserOut.model_validate(user))
