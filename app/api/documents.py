"""Knowledge-base documents (admins): upload, list, show, download, delete, re-index."""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, require_admin, respond
from app.api.multipart import multipart_files
from app.api.openapi import documented
from app.api.rate_limits import client_address, rate_limited, user_or_ip
from app.errors import (
    ApiError,
    Conflict,
    EmptyDocument,
    InvalidInput,
    NotFound,
    UnsupportedDocument,
    UnsupportedMediaType,
    UploadTooLarge,
)
from app.extensions import get_db, resources
from app.models import RagDocument
from app.schemas.documents import DocumentList, DocumentOut, RejectedFile, UploadResult
from app.services import audit, knowledge_base
from app.services.audit import Action
from app.services.ownership import document_or_404
from app.services.uploads import CheckedUpload, check_upload, safe_name

bp = Blueprint("documents", __name__, url_prefix="/api/documents")
# what a file can be refused as (app/services/uploads.py, and a duplicate)
REFUSALS: tuple[type[ApiError], ...] = (
    Conflict, UploadTooLarge, UnsupportedMediaType, UnsupportedDocument, EmptyDocument,
    InvalidInput,
)  # fmt: skip


def read_uploads() -> tuple[list[CheckedUpload], list[RejectedFile]]:
    """Each file checked on its own: those that pass, and each refused one with its reason."""
    settings = resources().settings
    request.max_content_length = settings.max_upload_bytes * settings.max_upload_files + 1_000_000
    files = multipart_files("files")
    if not files:
        raise InvalidInput("send one or more files in the multipart field 'files'")
    if len(files) > settings.max_upload_files:
        raise InvalidInput(f"at most {settings.max_upload_files} files per upload")
    checked, rejected = [], []
    for upload in files:
        data = upload.stream.read(settings.max_upload_bytes + 1)
        try:
            checked.append(
                check_upload(
                    upload.filename,
                    data,
                    settings.max_upload_bytes,
                    max_unpacked_bytes=settings.max_unpacked_bytes,
                    max_unpack_ratio=settings.max_unpack_ratio,
                )
            )
        except ApiError as exc:
            name = safe_name(upload.filename)
            rejected.append(
                RejectedFile(name=name, status=exc.status, code=exc.code, message=exc.message)
            )
    return checked, rejected


@bp.post("")
@jwt_required()
@rate_limited("rate_limit_uploads", by=user_or_ip, what="uploads")
@documented(
    summary="Upload documents (multipart field 'files'): the good files are taken, each "
    "refused one is listed with its reason; when none is taken, the answer is the refusal",
    files="files",
    response=UploadResult,
    status=202,
)
def upload() -> tuple[Response, int]:
    admin = require_admin()
    db = get_db()
    uploads, rejected = read_uploads()
    fresh, duplicates = knowledge_base.split_duplicates(db, uploads)
    rejected += [
        RejectedFile(
            name=checked.original_name,
            status=Conflict.status,
            code=Conflict.code,
            message=f"already uploaded: {checked.original_name} has the same content as "
            + (f"document {found}" if found else "another file of this upload"),
            existing_document_id=found,
        )
        for checked, found in duplicates
    ]
    if not fresh:
        raise refusal(rejected)
    audit.record(db, Action.DOCUMENT_UPLOADED, admin, target_type="document",
                 target=RagDocument, ip=client_address())  # fmt: skip
    documents = knowledge_base.add_documents(resources(), db, admin.id, fresh)
    items = [DocumentOut.model_validate(d) for d in documents]
    return respond(UploadResult(items=items, rejected=rejected), 202)


def refusal(rejected: list[RejectedFile]) -> ApiError:
    """No file taken: one file's own refusal, or (several) the first one's status with every
    file's reason in the details."""
    first = rejected[0]
    error_class = next(
        (c for c in REFUSALS if c.status == first.status and c.code == first.code), InvalidInput
    )
    details = [file.model_dump(exclude_none=True) for file in rejected]
    if len(rejected) == 1:
        return error_class(first.message, details=details)
    names = ", ".join(file.name for file in rejected)
    return error_class(f"no file was taken ({names}): {first.message}", details=details)


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
    audit.record(get_db(), Action.DOCUMENT_DELETED, require_admin(), target_type="document",
                 target=document_id, ip=client_address())  # fmt: skip
    knowledge_base.delete_document(resources(), get_db(), document_id)
    return no_content()


@bp.post("/<int:document_id>/reindex")
@jwt_required()
@documented(summary="Extract and embed the document again", response=DocumentOut, status=202)
def reindex(document_id: int) -> tuple[Response, int]:
    audit.record(get_db(), Action.DOCUMENT_REINDEXED, require_admin(), target_type="document",
                 target=document_id, ip=client_address())  # fmt: skip
    document = knowledge_base.reindex_document(resources(), get_db(), document_id)
    return respond(DocumentOut.model_validate(document), 202)
