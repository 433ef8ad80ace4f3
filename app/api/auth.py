"""Accounts and tokens: register, login, refresh, logout, me."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import get_jwt, jwt_required, verify_jwt_in_request

from app.api.deps import no_content, parse_body, require_admin, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import (
    client_address,
    failed_login,
    login_account,
    login_username,
    rate_limited,
)
from app.api.tokens import access_for_refresh, issue_tokens
from app.errors import Forbidden, Unauthorized
from app.events import publish_account_notice
from app.extensions import get_db, resources
from app.schemas.auth import AccessToken, AuthConfig, LoginBody, RegisterBody, TokenPair, UserOut
from app.services import audit
from app.services.accounts import authenticate, register_user, revoke
from app.services.audit import Action

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@bp.get("/config")
@documented(summary="How accounts are created here", response=AuthConfig, auth=False)
def auth_config() -> tuple[Response, int]:
    settings = resources().settings
    sso = settings.oidc_enabled
    return respond(
        AuthConfig(
            registration=settings.registration,
            sso_name=settings.oidc_display_name if sso else None,
            sso_login_url="/api/auth/oidc/login" if sso else None,
        )
    )


@bp.post("/register")
@rate_limited("rate_limit_register", by=client_address, what="accounts from this address")
@documented(
    summary="Create an account", body=RegisterBody, response=UserOut, status=201, auth=False
)
def register() -> tuple[Response, int]:
    body = parse_body(RegisterBody)
    if resources().settings.registration == "admin":
        verify_jwt_in_request(optional=True)
        if get_jwt() == {}:
            raise Forbidden("registration is closed: an administrator creates accounts")
        require_admin()
    user = register_user(get_db(), body.username, body.password, body.email)
    return respond(UserOut.model_validate(user), 201)


@bp.post("/login")
@rate_limited(
    "rate_limit_login_ip",
    by=client_address,
    what="failed logins from this address",
    counts=failed_login,
)
@rate_limited(
    "rate_limit_login_username",
    by=login_username,
    what="failed logins for this username",
    counts=failed_login,
)
@rate_limited(
    "rate_limit_login_account",
    by=login_account,
    what="failed logins for this account",
    counts=failed_login,
)
@documented(summary="Log in", body=LoginBody, response=TokenPair, auth=False)
def login() -> tuple[Response, int]:
    body = parse_body(LoginBody)
    db = get_db()
    try:
        user = authenticate(db, body.username, body.password)
    except (Unauthorized, Forbidden) as exc:
        audit.record(db, Action.SIGN_IN_FAILED, None, actor_name=body.username,
                     details={"reason": exc.message}, ip=client_address())  # fmt: skip
        db.commit()
        raise
    audit.record(db, Action.SIGN_IN, user, target_type="user", target=user.id,
                 ip=client_address())  # fmt: skip
    db.commit()
    access, refresh = issue_tokens(user)
    return respond(TokenPair(access_token=access, refresh_token=refresh))


@bp.post("/refresh")
@jwt_required(refresh=True)
@documented(summary="New access token from a refresh token", response=AccessToken)
def refresh() -> tuple[Response, int]:
    token = access_for_refresh(signed_in_user(), get_jwt()["jti"])
    return respond(AccessToken(access_token=token))


@bp.post("/logout")
@jwt_required(verify_type=False)
@documented(summary="Revoke this token and its refresh token", status=204)
def logout() -> tuple[Response, int]:
    claims = get_jwt()
    revoke(get_db(), claims)
    token_ids = [str(claims[k]) for k in ("jti", "rjti") if claims.get(k)]
    publish_account_notice(resources().redis, int(claims["sub"]), "logged_out", token_ids)
    return no_content()


@bp.get("/me")
@jwt_required()
@documented(summary="The current user", response=UserOut)
def me() -> tuple[Response, int]:
    return respond(UserOut.model_validate(signed_in_user()))
