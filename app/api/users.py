"""Admin: list accounts, change a role, deactivate or reactivate an account."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_body, require_admin, respond
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.enums import Role
from app.events import publish_account_notice
from app.extensions import get_db, resources
from app.models import User
from app.schemas.admin import UserList, UserPatch
from app.schemas.auth import UserOut
from app.services import accounts, audit
from app.services.audit import Action

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
    if was is not None:
        record_account_change(admin, user_id, was, role, body.active)
    user = accounts.update_user(get_db(), admin.id, user_id, role, body.active)
    if was is not None and was[0] and not user.active:  # its open sockets close now
        publish_account_notice(resources().redis, user.id, "deactivated")
    elif was is not None and user.active and was[1] != user.role:
        publish_account_notice(resources().redis, user.id, "role_changed")
    return respond(UserOut.model_validate(user))


def record_account_change(
    admin: User, user_id: int, was: tuple[bool, Role], role: Role | None, active: bool | None
) -> None:
    """Audit events for what the update changes, written by its commit."""
    db = get_db()
    ip = client_address()
    if role is not None and role != was[1]:
        audit.record(db, Action.ROLE_CHANGED, admin, target_type="user", target=user_id,
                     details={"from": str(was[1]), "to": str(role)}, ip=ip)  # fmt: skip
    if active is not None and active != was[0]:
        action = Action.ACTIVATED if active else Action.DEACTIVATED
        audit.record(db, action, admin, target_type="user", target=user_id, ip=ip)
