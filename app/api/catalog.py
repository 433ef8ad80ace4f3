"""What a signed-in user can ask for: the models this server generates with, and the limits a
message meets."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import respond
from app.api.openapi import documented
from app.extensions import resources
from app.schemas.batches import MessageLimits, ModelList
from app.services.models import served_models

bp = Blueprint("catalog", __name__, url_prefix="/api")


@bp.get("/models")
@jwt_required()
@documented(
    summary="The models replies and batches can use now (a live worker serves each), the "
    "default first",
    response=ModelList,
)
def list_models() -> tuple[Response, int]:
    res = resources()
    return respond(ModelList(items=served_models(res), default=res.settings.model_names[0]))


@bp.get("/limits")
@jwt_required()
@documented(summary="The limits a message and its reply meet", response=MessageLimits)
def message_limits() -> tuple[Response, int]:
    settings = resources().settings
    return respond(
        MessageLimits(
            max_message_chars=settings.max_message_chars,
            context_tokens=settings.n_ctx,
            default_max_tokens=settings.default_max_tokens,
            max_tokens_limit=settings.max_tokens_limit,
        )
    )
