"""Knowledge-base documents (admins): upload, list, show, download, delete, re-index."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request, send_file
from flask_jwt_extended import current_user, jwt_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.openapi import documented
from app.api.schemas import DocumentList, DocumentOut
from app.api.validation import respond
from app.documents import CheckedUpload, check_upload, store_file
from app.errors import Conflict, InvalidInput, NotFound
from app.events import publish_document
from app.extensions import get_db, services
from app.models import DocumentStatus, RagDocument, utcnow
from app.security import require_admin

logger = logging.getLogger(__name__)
bp = Blueprint("documents", __name__, url_prefix="/api/documents")
BUSY = {DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING}


def document_or_404(db: Session, document_id: int) -> RagDocument:
    document = db.get(RagDocument, document_id)
    if document is None:
        raise NotFound("document not found")
    return document


def announce(document: RagDocument) -> None:
    publish_document(services().redis, DocumentOut.model_validate(document).model_dump(mode="json"))


def read_uploads() -> list[CheckedUpload]:
    settings = services().settings
    request.max_content_length = settings.max_upload_bytes * settings.max_upload_files + 1_000_000
    files = request.files.getlist("files")
    if not files:
        raise InvalidInput("send one or more files in the multipart field 'files'")
    if len(files) > settings.max_upload_files:
        raise InvalidInput(f"at most {settings.max_upload_files} files per upload")
    checked = []
    for upload in files:
        data = upload.stream.read(settings.max_upload_bytes + 1)
        checked.append(check_upload(upload.filename, data, settings.max_upload_bytes))
    return checked


def reject_duplicates(db: Session, uploads: list[CheckedUpload]) -> None:
    hashes = [u.sha256 for u in uploads]
    rows = db.execute(
        select(RagDocument.sha256, RagDocument.id).where(RagDocument.sha256.in_(hashes))
    )
    existing: dict[str, int] = dict(rows.all())
    duplicates = [
        {"name": u.original_name, "existing_document_id": existing.get(u.sha256)}
        for index, u in enumerate(uploads)
        if u.sha256 in existing or u.sha256 in hashes[:index]
    ]
    if duplicates:
        raise Conflict("already uploaded: the same content exists", details=duplicates)


@bp.post("")
@jwt_required()
@documented(summary="Upload documents (multipart field 'files')", response=DocumentList, status=202)
def upload() -> tuple[Response, int]:
    require_admin()
    uploads = read_uploads()
    db = get_db()
    reject_duplicates(db, uploads)
    uploads_dir = services().settings.uploads_dir
    documents = []
    for checked in uploads:
        documents.append(
            RagDocument(
                owner_id=current_user.id,
                title=checked.title,
                original_name=checked.original_name,
                content_type=checked.content_type,
                size_bytes=len(checked.data),
                sha256=checked.sha256,
                storage_name=store_file(uploads_dir, checked.data),
                meta={},
            )
        )
    db.add_all(documents)
    try:
        db.commit()
    except IntegrityError as exc:  # a concurrent upload of the same content won
        db.rollback()
        for document in documents:
            (uploads_dir / document.storage_name).unlink(missing_ok=True)
        raise Conflict("already uploaded: the same content exists") from exc
    for document in documents:
        announce(document)
        services().jobs.enqueue_ingest(document.id)
    return respond(DocumentList(items=[DocumentOut.model_validate(d) for d in documents]), 202)


@bp.get("")
@jwt_required()
@documented(summary="List documents with their status and progress", response=DocumentList)
def list_documents() -> tuple[Response, int]:
    require_admin()
    rows = get_db().scalars(select(RagDocument).order_by(RagDocument.id.desc()))
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
    path = services().settings.uploads_dir / document.storage_name
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
    db = get_db()
    document = document_or_404(db, document_id)
    storage_name = document.storage_name
    db.delete(document)
    db.commit()
    (services().settings.uploads_dir / storage_name).unlink(missing_ok=True)
    services().jobs.enqueue_vector_delete(document_id)
    publish_document(services().redis, {"id": document_id, "status": "deleted"})
    return Response(status=204), 204


@bp.post("/<int:document_id>/reindex")
@jwt_required()
@documented(summary="Extract and embed the document again", response=DocumentOut, status=202)
def reindex(document_id: int) -> tuple[Response, int]:
    require_admin()
    db = get_db()
    document = document_or_404(db, document_id)
    if document.status in BUSY:
        raise Conflict(f"the document is being indexed ({document.status})")
    document.status = DocumentStatus.QUEUED
    document.progress = 0.0
    document.chunks_done = 0
    document.error = None
    document.attempts = 0
    document.updated_at = utcnow()
    db.commit()
    announce(document)
    services().jobs.enqueue_ingest(document.id)
    return respond(DocumentOut.model_validate(document), 202)
