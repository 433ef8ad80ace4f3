"""Chat sessions: list, create, show, rename, delete."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import current_user, jwt_required
from sqlalchemy import func, select

from app.api.access import owned_session, usable_template
from app.api.openapi import documented
from app.api.schemas import Page, SessionCreate, SessionOut, SessionPage, SessionUpdate
from app.api.validation import parse_body, parse_query, respond
from app.extensions import get_db, services
from app.models import ChatSession, Message, utcnow

bp = Blueprint("sessions", __name__, url_prefix="/api/sessions")


@bp.get("")
@jwt_required()
@documented(summary="List chat sessions, newest first", query=Page, response=SessionPage)
def list_sessions() -> tuple[Response, int]:
    page = parse_query(Page)
    db = get_db()
    mine = ChatSession.owner_id == current_user.id
    total = db.scalar(select(func.count()).select_from(ChatSession).where(mine)) or 0
    rows = db.scalars(
        select(ChatSession)
        .where(mine)
        .order_by(ChatSession.updated_at.desc(), ChatSession.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    items = [SessionOut.model_validate(row) for row in rows]
    return respond(SessionPage(items=items, total=total, limit=page.limit, offset=page.offset))


@bp.post("")
@jwt_required()
@documented(summary="Create a chat session", body=SessionCreate, response=SessionOut, status=201)
def create_session() -> tuple[Response, int]:
    body = parse_body(SessionCreate)
    db = get_db()
    chat = ChatSession(
        owner_id=current_user.id,
        title=body.title,
        use_knowledge_base=body.use_knowledge_base,
        template_id=usable_template(db, body.template_id),
    )
    db.add(chat)
    db.commit()
    return respond(SessionOut.model_validate(chat), 201)


@bp.get("/<int:session_id>")
@jwt_required()
@documented(summary="Show a chat session", response=SessionOut)
def show_session(session_id: int) -> tuple[Response, int]:
    return respond(SessionOut.model_validate(owned_session(get_db(), current_user.id, session_id)))


@bp.patch("/<int:session_id>")
@jwt_required()
@documented(
    summary="Rename a chat session or change its settings", body=SessionUpdate, response=SessionOut
)
def update_session(session_id: int) -> tuple[Response, int]:
    body = parse_body(SessionUpdate)
    db = get_db()
    chat = owned_session(db, current_user.id, session_id)
    if body.title is not None:
        chat.title = body.title
    if body.use_knowledge_base is not None:
        chat.use_knowledge_base = body.use_knowledge_base
    if "template_id" in body.model_fields_set:
        chat.template_id = usable_template(db, body.template_id)
    chat.updated_at = utcnow()
    db.commit()
    return respond(SessionOut.model_validate(chat))


@bp.delete("/<int:session_id>")
@jwt_required()
@documented(summary="Delete a chat session and its messages", status=204)
def delete_session(session_id: int) -> tuple[Response, int]:
    db = get_db()
    chat = owned_session(db, current_user.id, session_id)
    message_ids = list(db.scalars(select(Message.id).where(Message.session_id == chat.id)))
    for message_id in message_ids:
        services().streams.request_cancel(message_id)  # stop a reply still generating
    db.delete(chat)
    db.commit()
    services().streams.delete(*message_ids)
    return Response(status=204), 204
