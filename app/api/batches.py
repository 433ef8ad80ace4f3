"""Batch generation: submit a JSONL file, follow its progress, download results, cancel."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.api.deps import caller_api_key_id, key_or_jwt_user, parse_query, respond
from app.api.multipart import is_multipart, multipart_files
from app.api.openapi import documented
from app.errors import InvalidInput, UnsupportedMediaType
from app.extensions import get_db, resources
from app.schemas.batches import BatchList, BatchOut, BatchQuery
from app.schemas.common import Page
from app.services import batch_jobs
from app.services.batch_input import parse_batch
from app.services.models import require_model
from app.services.ownership import owned_batch

bp = Blueprint("batches", __name__, url_prefix="/api/batches")
JSONL_TYPES = ("application/jsonl", "application/x-ndjson", "application/x-jsonlines", "text/plain")


def uploaded_bytes() -> tuple[bytes, str | None]:
    """The JSONL from a multipart ``file`` field or the raw request body."""
    request.max_content_length = resources().settings.batch_max_bytes + 64 * 1024
    if is_multipart():
        uploads = multipart_files("file")
        if not uploads:
            raise InvalidInput("send the JSONL file in the multipart field 'file'")
        return uploads[0].read(), uploads[0].filename
    if request.mimetype not in JSONL_TYPES:
        raise UnsupportedMediaType(
            "send a JSONL file: multipart field 'file', or the body with Content-Type "
            "application/jsonl"
        )
    return request.get_data(), None


@bp.post("")
@documented(
    summary="Submit a JSONL batch (validated whole, then queued)",
    query=BatchQuery,
    file="file",
    raw_body="application/jsonl",
    response=BatchOut,
    status=202,
)
def submit_batch() -> tuple[Response, int]:
    user = key_or_jwt_user()
    res = resources()
    query = parse_query(BatchQuery)
    data, filename = uploaded_bytes()
    if query.model is not None and query.model not in res.settings.model_names:
        raise InvalidInput(f"unknown model {query.model!r}: see /api/models")
    model = require_model(res, query.model)  # 503 while no worker serves it
    lines = [
        line.model_copy(update={"request": {**line.request, "model": model}})
        for line in parse_batch(data, res.settings, query.line_defaults())
    ]
    db = get_db()
    name = query.name or filename or "batch"
    job = batch_jobs.submit_batch(res, db, user.id, name, lines, caller_api_key_id())
    return respond(batch_jobs.summarize(db, job), 202)


@bp.get("")
@documented(summary="Your batches, newest first", query=Page, response=BatchList)
def list_batches() -> tuple[Response, int]:
    user = key_or_jwt_user()
    page = parse_query(Page)
    db = get_db()
    jobs = batch_jobs.list_batches(db, user.id, page.limit, page.offset)
    return respond(BatchList(items=[batch_jobs.summarize(db, job) for job in jobs]))


@bp.get("/<int:batch_id>")
@documented(summary="A batch's status, counts, progress and timings", response=BatchOut)
def show_batch(batch_id: int) -> tuple[Response, int]:
    db = get_db()
    return respond(batch_jobs.summarize(db, owned_batch(db, key_or_jwt_user().id, batch_id)))


@bp.get("/<int:batch_id>/results")
@documented(summary="Finished items as JSONL, in file order (also while the batch runs)")
def batch_results(batch_id: int) -> Response:
    db = get_db()
    job = owned_batch(db, key_or_jwt_user().id, batch_id)
    response = Response(batch_jobs.result_lines(db, job), mimetype="application/jsonl")
    response.headers["Content-Disposition"] = f'attachment; filename="batch-{job.id}-results.jsonl"'
    return response


@bp.post("/<int:batch_id>/cancel")
@documented(
    summary="Cancel the batch's queued items; running items finish", response=BatchOut, status=202
)
def cancel_batch(batch_id: int) -> tuple[Response, int]:
    db = get_db()
    job = batch_jobs.cancel_batch(db, key_or_jwt_user().id, batch_id)
    return respond(batch_jobs.summarize(db, job), 202)
