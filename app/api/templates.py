"""Prompt templates and their ordered few-shot examples; admins edit, everyone may pick."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import is_admin, no_content, parse_body, require_admin, respond
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.extensions import get_db
from app.models import PromptTemplate, User
from app.schemas.templates import (
    ExamplesReplace,
    TemplateCreate,
    TemplateList,
    TemplateOut,
    TemplateUpdate,
)
from app.services import audit, templates
from app.services.audit import Action

bp = Blueprint("templates", __name__, url_prefix="/api/templates")


def audited(
    admin: User,
    action: str,
    target: int | type[PromptTemplate],
    details: dict[str, Any] | None = None,
) -> None:
    """Recorded by the commit of the change (nothing when the change fails)."""
    audit.record(get_db(), action, admin, target_type="template", target=target,
                 details=details, ip=client_address())  # fmt: skip


def template_out(template: PromptTemplate, status: int = 200) -> tuple[Response, int]:
    return respond(TemplateOut.model_validate(template), status)


@bp.get("")
@jwt_required()
@documented(summary="List prompt templates", response=TemplateList)
def list_templates() -> tuple[Response, int]:
    rows = templates.list_templates(get_db(), include_inactive=is_admin())
    return respond(TemplateList(items=[TemplateOut.model_validate(row) for row in rows]))


@bp.post("")
@jwt_required()
@documented(summary="Create a template", body=TemplateCreate, response=TemplateOut, status=201)
def create_template() -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(TemplateCreate)
    audited(admin, Action.TEMPLATE_CREATED, PromptTemplate, {"name": body.name})
    return template_out(templates.create_template(get_db(), body), 201)


@bp.get("/<int:template_id>")
@jwt_required()
@documented(summary="Show a template", response=TemplateOut)
def show_template(template_id: int) -> tuple[Response, int]:
    return template_out(
        templates.visible_template(get_db(), template_id, include_inactive=is_admin())
    )


@bp.patch("/<int:template_id>")
@jwt_required()
@documented(summary="Edit a template", body=TemplateUpdate, response=TemplateOut)
def update_template(template_id: int) -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(TemplateUpdate)
    audited(admin, Action.TEMPLATE_UPDATED, template_id, {"fields": sorted(body.model_fields_set)})
    return template_out(templates.update_template(get_db(), template_id, body))


@bp.put("/<int:template_id>/examples")
@jwt_required()
@documented(
    summary="Replace the ordered few-shot examples", body=ExamplesReplace, response=TemplateOut
)
def replace_examples(template_id: int) -> tuple[Response, int]:
    admin = require_admin()
    body = parse_body(ExamplesReplace)
    audited(admin, Action.TEMPLATE_EXAMPLES, template_id, {"examples": len(body.examples)})
    return template_out(templates.replace_examples(get_db(), template_id, body.examples))


@bp.post("/<int:template_id>/default")
@jwt_required()
@documented(summary="Make this the default template", response=TemplateOut)
def make_default(template_id: int) -> tuple[Response, int]:
    audited(require_admin(), Action.TEMPLATE_DEFAULT, template_id)
    return template_out(templates.make_default(get_db(), template_id))


@bp.delete("/<int:template_id>")
@jwt_required()
@documented(summary="Delete a template (chats using it fall back to the default)", status=204)
def delete_template(template_id: int) -> tuple[Response, int]:
    audited(require_admin(), Action.TEMPLATE_DELETED, template_id)
    templates.delete_template(get_db(), template_id)
    return no_content()
