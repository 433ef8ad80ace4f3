"""Prompt templates and their ordered few-shot examples; admins edit, everyone may pick."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.openapi import documented
from app.api.schemas import (
    ExampleIn,
    ExamplesReplace,
    TemplateCreate,
    TemplateList,
    TemplateOut,
    TemplateUpdate,
)
from app.api.validation import parse_body, respond
from app.errors import Conflict, NotFound
from app.extensions import get_db
from app.models import PromptExample, PromptTemplate, utcnow
from app.security import require_admin

bp = Blueprint("templates", __name__, url_prefix="/api/templates")


def template_or_404(db: Session, template_id: int) -> PromptTemplate:
    template = db.get(PromptTemplate, template_id)
    if template is None:
        raise NotFound("template not found")
    return template


def set_examples(template: PromptTemplate, examples: list[ExampleIn]) -> None:
    template.examples = [
        PromptExample(position=index, user_input=e.user_input, assistant_output=e.assistant_output)
        for index, e in enumerate(examples)
    ]


def commit_unique_name(db: Session) -> None:
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise Conflict("a template with that name exists") from exc


@bp.get("")
@jwt_required()
@documented(summary="List prompt templates", response=TemplateList)
def list_templates() -> tuple[Response, int]:
    rows = get_db().scalars(select(PromptTemplate).order_by(PromptTemplate.name))
    return respond(TemplateList(items=[TemplateOut.model_validate(row) for row in rows]))


@bp.post("")
@jwt_required()
@documented(summary="Create a template", body=TemplateCreate, response=TemplateOut, status=201)
def create_template() -> tuple[Response, int]:
    require_admin()
    body = parse_body(TemplateCreate)
    db = get_db()
    template = PromptTemplate(name=body.name, system_prompt=body.system_prompt, active=body.active)
    set_examples(template, body.examples)
    db.add(template)
    commit_unique_name(db)
    return respond(TemplateOut.model_validate(template), 201)


@bp.get("/<int:template_id>")
@jwt_required()
@documented(summary="Show a template", response=TemplateOut)
def show_template(template_id: int) -> tuple[Response, int]:
    return respond(TemplateOut.model_validate(template_or_404(get_db(), template_id)))


@bp.patch("/<int:template_id>")
@jwt_required()
@documented(summary="Edit a template", body=TemplateUpdate, response=TemplateOut)
def update_template(template_id: int) -> tuple[Response, int]:
    require_admin()
    body = parse_body(TemplateUpdate)
    db = get_db()
    template = template_or_404(db, template_id)
    for field in ("name", "system_prompt", "active"):
        value = getattr(body, field)
        if value is not None:
            setattr(template, field, value)
    if template.is_default and not template.active:
        raise Conflict("the default template cannot be deactivated")
    template.updated_at = utcnow()
    commit_unique_name(db)
    return respond(TemplateOut.model_validate(template))


@bp.put("/<int:template_id>/examples")
@jwt_required()
@documented(
    summary="Replace the ordered few-shot examples", body=ExamplesReplace, response=TemplateOut
)
def replace_examples(template_id: int) -> tuple[Response, int]:
    require_admin()
    body = parse_body(ExamplesReplace)
    db = get_db()
    template = template_or_404(db, template_id)
    set_examples(template, body.examples)
    template.updated_at = utcnow()
    db.commit()
    db.refresh(template)
    return respond(TemplateOut.model_validate(template))


@bp.post("/<int:template_id>/default")
@jwt_required()
@documented(summary="Make this the default template", response=TemplateOut)
def make_default(template_id: int) -> tuple[Response, int]:
    require_admin()
    db = get_db()
    template = template_or_404(db, template_id)
    if not template.active:
        raise Conflict("an inactive template cannot be the default")
    db.execute(update(PromptTemplate).values(is_default=PromptTemplate.id == template.id))
    db.commit()
    db.refresh(template)
    return respond(TemplateOut.model_validate(template))


@bp.delete("/<int:template_id>")
@jwt_required()
@documented(summary="Delete a template (chats using it fall back to the default)", status=204)
def delete_template(template_id: int) -> tuple[Response, int]:
    require_admin()
    db = get_db()
    db.delete(template_or_404(db, template_id))
    db.commit()
    return Response(status=204), 204
