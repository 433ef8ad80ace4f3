"""The OpenAI Batch API on the batch queue: create from an uploaded file, retrieve, list,
cancel. Results come back as files (GET /v1/files/{id}/content)."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.deps import key_or_jwt_user, parse_openai_body, parse_query, respond
from app.api.openapi import documented
from app.api.v1 import embedding_model_name
from app.extensions import get_db, resources
from app.schemas.openai_api import BatchCreateBody, BatchObject, OpenAIBatchList, OpenAIBatchQuery
from app.services import openai_batches
from app.services.openai_batch_input import Models

bp = Blueprint("openai_batches", __name__, url_prefix="/v1/batches")


def served_models() -> Models:
    return Models(chat=tuple(resources().settings.model_names), embedding=embedding_model_name())


@bp.post("")
@documented(
    summary="Create a batch from an uploaded input file (validated whole before anything runs)",
    body=BatchCreateBody,
    response=BatchObject,
)
def create_batch() -> tuple[Response, int]:
    user = key_or_jwt_user()
    body = parse_openai_body(BatchCreateBody)
    db = get_db()
    models = served_models()
    job = openai_batches.create_batch(resources(), db, user.id, body, models)
    return respond(openai_batches.batch_object(db, job, models))


@bp.get("")
@documented(
    summary="Your batches, newest first (cursor: after)",
    query=OpenAIBatchQuery,
    response=OpenAIBatchList,
)
def list_batches() -> tuple[Response, int]:
    user = key_or_jwt_user()
    query = parse_query(OpenAIBatchQuery)
    db = get_db()
    models = served_models()
    jobs, more = openai_batches.list_batches(db, user.id, query.limit, query.after)
    data = [openai_batches.batch_object(db, job, models) for job in jobs]
    return respond(OpenAIBatchList.page(data, more))


@bp.get("/<batch_id>")
@documented(summary="A batch: status, request counts, result files", response=BatchObject)
def retrieve_batch(batch_id: str) -> tuple[Response, int]:
    user = key_or_jwt_user()
    db = get_db()
    job = openai_batches.owned_api_batch(db, user.id, batch_id)
    return respond(openai_batches.batch_object(db, job, served_models()))


@bp.post("/<batch_id>/cancel")
@documented(
    summary="Cancel a batch: queued requests are dropped, running ones finish (cancelling)",
    response=BatchObject,
)
def cancel_batch(batch_id: str) -> tuple[Response, int]:
    user = key_or_jwt_user()
    db = get_db()
    job = openai_batches.cancel_batch(db, user.id, batch_id)
    return respond(openai_batches.batch_object(db, job, served_models()))
