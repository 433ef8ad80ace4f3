"""Knowledge-base documents (admins): upload, list, show, download, delete, re-index."""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, require_admin, respond
from app.api.multipart import multipart_files
from app.api.openapi import documented
from app.api.rate_limits import rate_limited, user_or_ip
from app.errors import InvalidInput, NotFound
from app.extensions import get_db, resources
from app.schemas.documents import DocumentList, DocumentOut
from app.services import knowledge_base
from app.services.ownership import document_or_404
from app.services.uploads import CheckedUpload, check_upload

bp = Blueprint("documents", __name__, url_prefix="/api/documents")


def read_uploads() -> list[CheckedUpload]:
    settings = resources().settings
    request.max_content_length = settings.max_upload_bytes * settings.max_upload_files + 1_000_000
    files = multipart_files("files")
    if not files:
        raise InvalidInput("send one or more files in the multipart field 'files'")
    if len(files) > settings.max_upload_files:
        raise InvalidInput(f"at most {settings.max_upload_files} files per upload")
    checked = []
    for upload in files:
        data = upload.stream.read(settings.max_upload_bytes + 1)
        checked.append(
            check_upload(
                upload.filename,
                data,
                settings.max_upload_bytes,
                max_unpacked_bytes=settings.max_unpacked_bytes,
                max_unpack_ratio=settings.max_unpack_ratio,
            )
        )
    return checked


@bp.post("")
@jwt_required()
@rate_limited("rate_limit_uploads", by=user_or_ip, what="uploads")
@documented(
    summary="Upload documents (multipart field 'files')",
    files="files",
    response=DocumentList,
    status=202,
)
def upload() -> tuple[Response, int]:
    admin = require_admin()
    uploads = read_uploads()
    documents = knowledge_base.add_documents(resources(), get_db(), admin.id, uploads)
    return respond(DocumentList(items=[DocumentOut.model_validate(d) for d in documents]), 202)


@bp.get("")
@jwt_required()
@documented(summary="List documents with their status and progress", response=DocumentList)
def list_documents() -> tuple[Response, int]:
    require_admin()
    rows = knowledge_base.list_documents(get_db())
    return respond(DocumentList(items=[DocumentOut.model_validate(row) for row in rows]))


@bp.get("/<int:document_id>")
@jwt_required()
@documented(summary="Show a document", response=DocumentOut)
def show_document(document_id: int) -> tuple[Response, int]:
    require_admin()
    return respond(DocumentOut.model_validate(document_or_404(get_db(), document_id)))


@bp.get("/<int:document_id>/file")
@jwt_required()
@documented(summary="Download the original file")
def download(document_id: int) -> Response:
    require_admin()
    document = document_or_404(get_db(), document_id)
    path = resources().settings.uploads_dir / document.storage_name
    if not path.exists():
        raise NotFound("the stored file is missing")
    return send_file(
        path,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
    )


@bp.delete("/<int:document_id>")
@jwt_required()
@documented(summary="Delete a document, its file and its vectors", status=204)
def delete_document(document_id: int) -> tuple[Response, int]:
    require_admin()
    knowledge_base.delete_document(resources(), get_db(), document_id)
    return no_content()


@bp.post("/<int:document_id>/reindex")
@jwt_required()
@documented(summary="Extract and embed the document again", response=DocumentOut, status=202)
def reindex(document_id: int) -> tuple[Response, int]:
    require_admin()
    document = knowledge_base.reindex_document(resources(), get_db(), document_id)
    return respond(DocumentOut.model_validate(document), 202)
