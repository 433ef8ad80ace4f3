"""The user's API keys for /v1: create (the key is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_body, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.api_keys_table import ApiKey
from app.extensions import get_db
from app.schemas.keys import KeyCreate, KeyCreated, KeyList, KeyOut
from app.services import accounts, audit
from app.services.audit import Action

bp = Blueprint("api_keys", __name__, url_prefix="/api/keys")


@bp.post("")
@jwt_required()
@documented(
    summary="Create an API key (shown only in this answer)",
    body=KeyCreate,
    response=KeyCreated,
    status=201,
)
def create_key() -> tuple[Response, int]:
    body = parse_body(KeyCreate)
    user = signed_in_user()
    audit.record(get_db(), Action.KEY_CREATED, user, target_type="api_key", target=ApiKey,
                 details={"name": body.name}, ip=client_address())  # fmt: skip
    row, key = accounts.create_api_key(get_db(), user.id, body.name)
    return respond(KeyCreated(**KeyOut.model_validate(row).model_dump(), key=key), 201)


@bp.get("")
@jwt_required()
@documented(summary="Your API keys (never the keys themselves)", response=KeyList)
def list_keys() -> tuple[Response, int]:
    rows = accounts.list_api_keys(get_db(), signed_in_user().id)
    return respond(KeyList(items=[KeyOut.model_validate(row) for row in rows]))


@bp.delete("/<int:key_id>")
@jwt_required()
@documented(summary="Revoke an API key", response=KeyOut)
def revoke_key(key_id: int) -> tuple[Response, int]:
    user = signed_in_user()
    audit.record(get_db(), Action.KEY_REVOKED, user, target_type="api_key", target=key_id,
                 ip=client_address())  # fmt: skip
    row = accounts.revoke_api_key(get_db(), user.id, key_id)
    return respond(KeyOut.model_validate(row))
