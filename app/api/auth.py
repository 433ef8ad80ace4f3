"""Accounts and tokens: register, login, refresh, logout, me."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import current_user, get_jwt, jwt_required, verify_jwt_in_request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.api.openapi import documented
from app.api.schemas import AccessToken, AuthConfig, LoginBody, RegisterBody, TokenPair, UserOut
from app.api.validation import parse_body, respond
from app.errors import Conflict, Forbidden
from app.extensions import get_db, services
from app.models import Role, User
from app.security import (
    access_for_refresh,
    authenticate,
    hash_password,
    issue_tokens,
    require_admin,
    revoke,
)

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@bp.get("/config")
@documented(summary="How accounts are created here", response=AuthConfig, auth=False)
def auth_config() -> tuple[Response, int]:
    return respond(AuthConfig(registration=services().settings.registration))


@bp.post("/register")
@documented(
    summary="Create an account", body=RegisterBody, response=UserOut, status=201, auth=False
)
def register() -> tuple[Response, int]:
    body = parse_body(RegisterBody)
    if services().settings.registration == "admin":
        verify_jwt_in_request(optional=True)
        if get_jwt() == {}:
            raise Forbidden("registration is closed: an administrator creates accounts")
        require_admin()
    db = get_db()
    if db.scalar(select(func.count()).select_from(User).where(User.username == body.username)):
        raise Conflict("that username is taken")
    user = User(
        username=body.username,
        email=body.email,
        password_hash=hash_password(body.password),
        role=Role.USER,
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict("that username is taken") from exc
    return respond(UserOut.model_validate(user), 201)


@bp.post("/login")
@documented(summary="Log in", body=LoginBody, response=TokenPair, auth=False)
def login() -> tuple[Response, int]:
    body = parse_body(LoginBody)
    user = authenticate(get_db(), body.username, body.password)
    access, refresh = issue_tokens(user)
    return respond(TokenPair(access_token=access, refresh_token=refresh))


@bp.post("/refresh")
@jwt_required(refresh=True)
@documented(summary="New access token from a refresh token", response=AccessToken)
def refresh() -> tuple[Response, int]:
    return respond(AccessToken(access_token=access_for_refresh(current_user, get_jwt()["jti"])))


@bp.post("/logout")
@jwt_required(verify_type=False)
@documented(summary="Revoke this token and its refresh token")
def logout() -> tuple[Response, int]:
    revoke(get_db(), get_jwt())
    return Response(status=204), 204


@bp.get("/me")
@jwt_required()
@documented(summary="The current user", response=UserOut)
def me() -> tuple[Response, int]:
    return respond(UserOut.model_validate(current_user))
