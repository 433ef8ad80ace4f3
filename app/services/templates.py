"""Prompt templates and their ordered few-shot examples; one template is the default."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import PromptExample, PromptTemplate, utcnow
from app.schemas.templates import ExampleIn, TemplateCreate, TemplateUpdate
from app.services.ownership import template_or_404


def list_templates(db: Session, *, include_inactive: bool) -> Sequence[PromptTemplate]:
    """Every template for an admin; the ones a chat may use (active) for everyone else."""
    query = select(PromptTemplate).order_by(PromptTemplate.name)
    if not include_inactive:
        query = query.where(PromptTemplate.active)
    return db.scalars(query).all()


def visible_template(db: Session, template_id: int, *, include_inactive: bool) -> PromptTemplate:
    """An inactive template (and its system prompt) is an admin's business: 404 for others."""
    template = template_or_404(db, template_id)
    if not template.active and not include_inactive:
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


def create_template(db: Session, body: TemplateCreate) -> PromptTemplate:
    template = PromptTemplate(name=body.name, system_prompt=body.system_prompt, active=body.active)
    set_examples(template, body.examples)
    db.add(template)
    commit_unique_name(db)
    return template


def update_template(db: Session, template_id: int, body: TemplateUpdate) -> PromptTemplate:
    template = template_or_404(db, template_id)
    for field in ("name", "system_prompt", "active"):
        value = getattr(body, field)
        if value is not None:
            setattr(template, field, value)
    if template.is_default and not template.active:
        raise Conflict("the default template cannot be deactivated")
    template.updated_at = utcnow()
    commit_unique_name(db)
    return template


def replace_examples(db: Session, template_id: int, examples: list[ExampleIn]) -> PromptTemplate:
    template = template_or_404(db, template_id)
    set_examples(template, examples)
    template.updated_at = utcnow()
    db.commit()
    db.refresh(template)
    return template


def make_default(db: Session, template_id: int) -> PromptTemplate:
    template = template_or_404(db, template_id)
    if not template.active:
        raise Conflict("an inactive template cannot be the default")
    db.execute(update(PromptTemplate).values(is_default=PromptTemplate.id == template.id))
    db.commit()
    db.refresh(template)
    return template


def delete_template(db: Session, template_id: int) -> None:
    """Chats that used it fall back to the default."""
    db.delete(template_or_404(db, template_id))
    db.commit()
