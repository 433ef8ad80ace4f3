"""The OpenAI Files API, for the Batch API: upload an input file (purpose ``batch``), list,
retrieve, read the content of inputs and results, delete. Files are the caller's own."""

from __future__ import annotations

import io

from flask import Blueprint, Response, request, send_file

from app.api.deps import key_or_jwt_user, parse_query, respond
from app.api.multipart import multipart_files
from app.api.openapi import documented
from app.api_files_table import ApiFile
from app.errors import InvalidInput, UnsupportedParameter
from app.extensions import get_db, resources
from app.models import as_utc
from app.schemas.openai_api import FileDeleted, FileList, FileObject, FileQuery
from app.services import api_files
from app.services.uploads import safe_name

bp = Blueprint("openai_files", __name__, url_prefix="/v1/files")
FORM_FIELDS = {"purpose"}


def file_object(row: ApiFile) -> FileObject:
    return FileObject(
        id=api_files.file_id(row.id),
        bytes=row.size_bytes,
        created_at=int(as_utc(row.created_at).timestamp()),
        filename=row.filename,
        purpose="batch_output" if row.purpose == api_files.BATCH_OUTPUT else "batch",
    )


@bp.post("")
@documented(
    summary="Upload a Batch API input file (multipart: file, purpose=batch)",
    file="file",
    form={"purpose": {"type": "string", "enum": ["batch"]}},
    response=FileObject,
)
def upload_file() -> tuple[Response, int]:
    user = key_or_jwt_user()
    settings = resources().settings
    request.max_content_length = settings.batch_max_bytes + 64 * 1024
    uploads = multipart_files("file")
    for name in request.form:
        if name.startswith("expires_after"):
            raise UnsupportedParameter(
                "expires_after is not supported by this server: files stay until deleted",
                param="expires_after",
            )
        if name not in FORM_FIELDS:
            raise UnsupportedParameter(
                f"unrecognized request argument supplied: {name}", param=name
            )
    if len(uploads) != 1:
        raise InvalidInput("send one file in the multipart field 'file'")
    purpose = request.form.get("purpose")
    if not purpose:
        raise InvalidInput("purpose is required: 'batch'")
    upload = uploads[0]
    row = api_files.create_file(
        get_db(), settings, user.id, safe_name(upload.filename), upload.read(), purpose
    )
    return respond(file_object(row))


@bp.get("")
@documented(summary="Your files, newest first (cursor: after)", query=FileQuery, response=FileList)
def list_files() -> tuple[Response, int]:
    user = key_or_jwt_user()
    query = parse_query(FileQuery)
    rows, more = api_files.list_files(
        get_db(),
        user.id,
        purpose=query.purpose,
        limit=query.limit,
        after=query.after,
        order=query.order,
    )
    data = [file_object(row) for row in rows]
    return respond(FileList.page(data, more))


@bp.get("/<file_id>")
@documented(summary="A file of yours", response=FileObject)
def retrieve_file(file_id: str) -> tuple[Response, int]:
    user = key_or_jwt_user()
    return respond(file_object(api_files.owned_file(get_db(), user.id, file_id)))


@bp.get("/<file_id>/content")
@documented(summary="A file's bytes (a batch input, output or error file: JSONL)")
def file_content(file_id: str) -> Response:
    user = key_or_jwt_user()
    row = api_files.owned_file(get_db(), user.id, file_id)
    return send_file(
        io.BytesIO(row.content),
        mimetype="application/jsonl",
        as_attachment=True,
        download_name=row.filename,
    )


@bp.delete("/<file_id>")
@documented(summary="Delete a file of yours (a batch keeps running without it)",
            response=FileDeleted)  # fmt: skip
def delete_file(file_id: str) -> tuple[Response, int]:
    user = key_or_jwt_user()
    row_id = api_files.delete_file(get_db(), user.id, file_id)
    return respond(FileDeleted(id=api_files.file_id(row_id), deleted=True))
