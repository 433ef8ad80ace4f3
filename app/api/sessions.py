"""Chat sessions: list, create, show, rename, delete."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, parse_body, parse_query, respond, signed_in_user
from app.api.openapi import documented
from app.extensions import get_db, resources
from app.schemas.common import Page
from app.schemas.sessions import SessionCreate, SessionOut, SessionPage, SessionUpdate
from app.services import chats
from app.services.ownership import owned_session

bp = Blueprint("sessions", __name__, url_prefix="/api/sessions")


@bp.get("")
@jwt_required()
@documented(summary="List chat sessions, newest first", query=Page, response=SessionPage)
def list_sessions() -> tuple[Response, int]:
    page = parse_query(Page)
    rows, total = chats.list_chats(get_db(), signed_in_user().id, page.limit, page.offset)
    items = [SessionOut.model_validate(row) for row in rows]
    return respond(SessionPage(items=items, total=total, limit=page.limit, offset=page.offset))


@bp.post("")
@jwt_required()
@documented(summary="Create a chat session", body=SessionCreate, response=SessionOut, status=201)
def create_session() -> tuple[Response, int]:
    body = parse_body(SessionCreate)
    chat = chats.create_chat(
        get_db(), signed_in_user().id, body.title, body.use_knowledge_base, body.template_id
    )
    return respond(SessionOut.model_validate(chat), 201)


@bp.get("/<int:session_id>")
@jwt_required()
@documented(summary="Show a chat session", response=SessionOut)
def show_session(session_id: int) -> tuple[Response, int]:
    chat = owned_session(get_db(), signed_in_user().id, session_id)
    return respond(SessionOut.model_validate(chat))


@bp.patch("/<int:session_id>")
@jwt_required()
@documented(
    summary="Rename a chat session or change its settings", body=SessionUpdate, response=SessionOut
)
def update_session(session_id: int) -> tuple[Response, int]:
    body = parse_body(SessionUpdate)
    changes = body.model_dump(include=body.model_fields_set)
    chat = chats.update_chat(get_db(), signed_in_user().id, session_id, changes)
    return respond(SessionOut.model_validate(chat))


@bp.delete("/<int:session_id>")
@jwt_required()
@documented(summary="Delete a chat session and its messages", status=204)
def delete_session(session_id: int) -> tuple[Response, int]:
    chats.delete_chat(get_db(), resources().streams, signed_in_user().id, session_id)
    return no_content()
