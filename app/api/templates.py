"""Prompt templates and their ordered few-shot examples; admins edit, everyone may pick."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import is_admin, no_content, parse_body, require_admin, respond
from app.api.openapi import documented
from app.extensions import get_db
from app.models import PromptTemplate
from app.schemas.templates import (
    ExamplesReplace,
    TemplateCreate,
    TemplateList,
    TemplateOut,
    TemplateUpdate,
)
from app.services import templates

bp = Blueprint("templates", __name__, url_prefix="/api/templates")


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
    require_admin()
    return template_out(templates.create_template(get_db(), parse_body(TemplateCreate)), 201)


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
    require_admin()
    body = parse_body(TemplateUpdate)
    return template_out(templates.update_template(get_db(), template_id, body))


@bp.put("/<int:template_id>/examples")
@jwt_required()
@documented(
    summary="Replace the ordered few-shot examples", body=ExamplesReplace, response=TemplateOut
)
def replace_examples(template_id: int) -> tuple[Response, int]:
    require_admin()
    body = parse_body(ExamplesReplace)
    return template_out(templates.replace_examples(get_db(), template_id, body.examples))


@bp.post("/<int:template_id>/default")
@jwt_required()
@documented(summary="Make this the default template", response=TemplateOut)
def make_default(template_id: int) -> tuple[Response, int]:
    require_admin()
    return template_out(templates.make_default(get_db(), template_id))


@bp.delete("/<int:template_id>")
@jwt_required()
@documented(summary="Delete a template (chats using it fall back to the default)", status=204)
def delete_template(template_id: int) -> tuple[Response, int]:
    require_admin()
    templates.delete_template(get_db(), template_id)
    return no_content()
