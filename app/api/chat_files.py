"""Files attached in a chat (its owner's alone): attach (multipart field 'files'), list, delete."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, respond, signed_in_user
from app.api.documents import read_uploads, refusal
from app.api.openapi import documented
from app.api.rate_limits import rate_limited, user_or_ip
from app.errors import Conflict
from app.extensions import get_db, resources
from app.schemas.chat_files import ChatFileList, ChatFileOut, ChatFileUpload
from app.schemas.documents import RejectedFile
from app.services import chat_files
from app.services.ownership import owned_session

bp = Blueprint("chat_files", __name__, url_prefix="/api/sessions/<int:session_id>/files")


@bp.post("")
@jwt_required()
@rate_limited("rate_limit_uploads", by=user_or_ip, what="uploads")
@documented(
    summary="Attach files to your chat (the knowledge base's types and limits); they are read "
    "and indexed for this chat alone: the good files are taken, each refused one is listed",
    files="files",
    response=ChatFileUpload,
    status=202,
)
def attach(session_id: int) -> tuple[Response, int]:
    user, db = signed_in_user(), get_db()
    owned_session(db, user.id, session_id)  # another user's chat is 404 before any upload
    uploads, rejected = read_uploads()
    fresh, again = chat_files.split_attached(db, session_id, uploads)
    rejected += [
        RejectedFile(name=checked.original_name, status=Conflict.status, code=Conflict.code,
                     message=f"already attached: {checked.original_name} is in this chat")
        for checked in again
    ]  # fmt: skip
    if not fresh:
        raise refusal(rejected)
    files = chat_files.attach_files(resources(), db, user.id, session_id, fresh)
    items = [ChatFileOut.model_validate(row) for row in files]
    return respond(ChatFileUpload(items=items, rejected=rejected), 202)


@bp.get("")
@jwt_required()
@documented(summary="Your chat's files, with their reading status", response=ChatFileList)
def list_files(session_id: int) -> tuple[Response, int]:
    rows = chat_files.list_files(get_db(), signed_in_user().id, session_id)
    return respond(ChatFileList(items=[ChatFileOut.model_validate(row) for row in rows]))


@bp.delete("/<int:attachment_id>")
@jwt_required()
@documented(summary="Delete a file of your chat (its text and vectors too)", status=204)
def delete_file(session_id: int, attachment_id: int) -> tuple[Response, int]:
    chat_files.detach_file(resources(), get_db(), signed_in_user().id, session_id, attachment_id)
    return no_content()
