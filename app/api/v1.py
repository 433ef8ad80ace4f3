"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (SSE or not), /v1/embeddings.

Authenticated by API keys; requests go through the same queues and workers as chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify

from app.api.deps import json_body, key_or_jwt_user, parse_lenient_body
from app.api.openapi import documented
from app.api.rate_limits import api_caller, rate_limited
from app.api.v1_calls import check_model, queued_request
from app.api.v1_sse import completion_events, sse_data, sse_response
from app.extensions import get_db, resources
from app.schemas.openai import ChatCompletionBody, EmbeddingsBody
from app.schemas.openai_api import ChatCompletionOut, EmbeddingsOut, ModelList
from app.services.chat_deltas import ReplyDeltas
from app.services.chat_requests import chat_completion_request
from app.services.completions import completion_streams, wait_for_completion
from app.services.embeddings import embed
from app.services.models import served_models
from app.services.openai_results import CHAT, embeddings_answer, response_body, usage_of
from app.streams import TokenStreams

bp = Blueprint("openai", __name__, url_prefix="/v1")


def embedding_model_name() -> str:
    path = str(getattr(resources().settings, "embedding_model_path", "") or "")
    return path.rstrip("/").rsplit("/", 1)[-1] if path else "all-MiniLM-L6-v2"


@bp.get("/models")
@documented(
    summary="OpenAI models: the chat models a live worker serves, and the embedding model",
    response=ModelList,
)
def list_models() -> Response:
    key_or_jwt_user()
    return jsonify(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "queuechat"}
                for name in (*served_models(resources()), embedding_model_name())
            ],
        }
    )


@bp.post("/chat/completions")
@documented(
    summary="OpenAI chat completions (stream: text/event-stream)",
    body=ChatCompletionBody,
    response=ChatCompletionOut,
)
@rate_limited("rate_limit_messages", by=api_caller, what="completions")
def chat_completions() -> Response:
    user = key_or_jwt_user()
    res = resources()
    body, wanted = chat_completion_request(json_body(), res.settings)
    asked = [m.as_turn()["content"] for m in body.messages if m.role == "user"]
    item, meta = queued_request(user, body.model, wanted, asked, "chatcmpl")
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        streams = completion_streams(res)
        deltas = ReplyDeltas(wanted, item.id)
        timeout_s = res.settings.api_wait_timeout_s
        return sse_response(sse(streams, timeout_s, item.id, meta, include_usage, deltas))
    item = wait_for_completion(res, get_db(), item)
    return jsonify({**response_body(CHAT, item, meta["created"]), **meta})


def sse(
    streams: TokenStreams,
    timeout_s: float,
    item_id: int,
    meta: dict[str, Any],
    include_usage: bool,
    deltas: ReplyDeltas,
) -> Iterator[str]:
    """Chunks in OpenAI's chat.completion.chunk format."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
        return sse_data({**meta, "object": "chat.completion.chunk", "choices": choices})

    def done(data: dict[str, Any]) -> Iterator[str]:
        for delta in deltas.finish():
            yield chunk(delta)
        reason = data.get("finish_reason") or "stop"
        yield chunk({}, "tool_calls" if deltas.is_calls and reason == "stop" else reason)
        if include_usage:
            yield sse_data(
                {**meta, "object": "chat.completion.chunk", "choices": [], "usage": usage_of(data)}
            )

    return completion_events(
        streams,
        timeout_s,
        item_id,
        lambda text: [chunk(delta) for delta in deltas.feed(text)],
        done,
        opening=[chunk({"role": "assistant", "content": ""})],
    )


@bp.post("/embeddings")
@documented(
    summary="OpenAI embeddings, computed by the ingest workers",
    body=EmbeddingsBody,
    response=EmbeddingsOut,
)
@rate_limited("rate_limit_embeddings", by=api_caller, what="embedding requests")
def embeddings() -> Response:
    key_or_jwt_user()
    body = parse_lenient_body(EmbeddingsBody)
    check_model(body.model, embedding_model_name())
    result = embed(resources(), body.texts())

    return jsonify(
        embeddings_answer(result.vectors, body.encoding_format, body.model, result.prompt_tokens)
    )
