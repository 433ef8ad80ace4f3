"""The user's API keys for /v1: create (the key is shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import Blueprint, Response
from flask_jwt_extended import current_user, jwt_required
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select

from app.api.openapi import documented
from app.api.validation import parse_body, respond
from app.api_keys import new_key
from app.errors import Conflict, NotFound
from app.extensions import get_db
from app.models import ApiKey, utcnow

bp = Blueprint("api_keys", __name__, url_prefix="/api/keys")
MAX_KEYS_PER_USER = 20


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str


class KeyList(BaseModel):
    items: list[KeyOut]


def owned_key(key_id: int) -> ApiKey:
    row = get_db().get(ApiKey, key_id)
    if row is None or row.owner_id != current_user.id:
        raise NotFound("API key not found")
    return row


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
    db = get_db()
    active = db.scalars(
        select(ApiKey.id).where(ApiKey.owner_id == current_user.id, ApiKey.revoked_at.is_(None))
    ).all()
    if len(active) >= MAX_KEYS_PER_USER:
        raise Conflict(f"you have {MAX_KEYS_PER_USER} active keys; revoke one first")
    row, key = new_key(db, current_user.id, body.name)
    db.commit()
    return respond(KeyCreated(**KeyOut.model_validate(row).model_dump(), key=key), 201)


@bp.get("")
@jwt_required()
@documented(summary="Your API keys (never the keys themselves)", response=KeyList)
def list_keys() -> tuple[Response, int]:
    rows = get_db().scalars(
        select(ApiKey).where(ApiKey.owner_id == current_user.id).order_by(ApiKey.id.desc())
    )
    return respond(KeyList(items=[KeyOut.model_validate(row) for row in rows]))


@bp.delete("/<int:key_id>")
@jwt_required()
@documented(summary="Revoke an API key", response=KeyOut)
def revoke_key(key_id: int) -> tuple[Response, int]:
    row = owned_key(key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        get_db().commit()
    return respond(KeyOut.model_validate(row))
