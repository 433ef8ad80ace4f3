"""Chat sessions: list, create, show, rename, delete, export and import."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required
from pydantic import ValidationError

from app.api.deps import json_body, no_content, parse_body, parse_query, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.errors import InvalidInput, validation_details
from app.extensions import get_db, resources
from app.schemas.chat_export import ChatExport, ChatImport, ExportQuery, ImportedChats
from app.schemas.common import Page
from app.schemas.sessions import SessionCreate, SessionOut, SessionPage, SessionUpdate
from app.services import audit, chat_export, chats
from app.services.audit import Action
from app.services.ownership import owned_session

bp = Blueprint("sessions", __name__, url_prefix="/api/sessions")


@bp.get("")
@jwt_required()
@documented(
    summary="List chat sessions: pinned first, then the most recently active",
    query=Page,
    response=SessionPage,
)
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
        get_db(), signed_in_user().id, body.title, body.use_knowledge_base, body.template_id,
        listed_model(body.model),
    )  # fmt: skip
    return respond(SessionOut.model_validate(chat), 201)


def listed_model(name: str | None) -> str | None:
    """A chat's model: one the server lists (else 422), or None for the default."""
    names = resources().settings.model_names
    if name is not None and name not in names:
        raise InvalidInput(f"model {name!r} is not served here; choose one of {names}")
    return name


@bp.get("/<int:session_id>")
@jwt_required()
@documented(summary="Show a chat session", response=SessionOut)
def show_session(session_id: int) -> tuple[Response, int]:
    chat = owned_session(get_db(), signed_in_user().id, session_id)
    return respond(SessionOut.model_validate(chat))


@bp.patch("/<int:session_id>")
@jwt_required()
@documented(
    summary="Rename, pin or unpin a chat session, or change its settings",
    body=SessionUpdate,
    response=SessionOut,
)
def update_session(session_id: int) -> tuple[Response, int]:
    body = parse_body(SessionUpdate)
    changes = body.model_dump(include=body.model_fields_set)
    if "model" in changes:
        changes["model"] = listed_model(body.model)
    chat = chats.update_chat(get_db(), signed_in_user().id, session_id, changes)
    return respond(SessionOut.model_validate(chat))


@bp.delete("/<int:session_id>")
@jwt_required()
@documented(summary="Delete a chat session and its messages", status=204)
def delete_session(session_id: int) -> tuple[Response, int]:
    user = signed_in_user()
    audit.record(get_db(), Action.CHAT_DELETED, user, target_type="chat", target=session_id,
                 ip=client_address())  # fmt: skip
    chats.delete_chat(resources(), get_db(), user.id, session_id)
    return no_content()


@bp.get("/<int:session_id>/export")
@jwt_required()
@documented(
    summary="Export a chat as QueueChat JSON or as Markdown (a download)",
    query=ExportQuery,
    response=ChatExport,
    text_response="text/markdown",
)
def export_session(session_id: int) -> Response:
    query = parse_query(ExportQuery)
    export = chat_export.export_chat(get_db(), signed_in_user().id, session_id)
    if query.format == "markdown":
        response = Response(chat_export.as_markdown(export), mimetype="text/markdown")
        extension = "md"
    else:
        response = Response(export.model_dump_json(indent=2), mimetype="application/json")
        extension = "json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="chat-{session_id}.{extension}"'
    )
    return response


@bp.post("/import")
@jwt_required()
@documented(
    summary="Import chats: a QueueChat export, or ChatGPT's (one conversation or the list)",
    body=ChatImport,
    response=ImportedChats,
    status=201,
)
def import_sessions() -> tuple[Response, int]:
    data = json_body()
    try:
        body = ChatImport.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            "not a QueueChat export or a ChatGPT conversation (or too large: at most 50 chats"
            " of 1,000 messages)",
            details=validation_details(exc)[:20],
        ) from exc
    made = chat_export.import_chats(get_db(), signed_in_user().id, body)
    return respond(ImportedChats(items=[SessionOut.model_validate(chat) for chat in made]), 201)
