"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (SSE or not), /v1/embeddings.

Authenticated by API keys; requests go through the same queues and workers as chat.
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify

from app.api.deps import caller_api_key_id, json_body, key_or_jwt_user, parse_lenient_body
from app.api.openapi import documented
from app.api.rate_limits import api_caller, client_address, rate_limited
from app.api.v1_sse import completion_events, sse_data, sse_response
from app.errors import NotFound
from app.extensions import get_db, resources
from app.models import BatchItem
from app.schemas.openai import ChatCompletionBody, EmbeddingsBody
from app.schemas.openai_api import ChatCompletionOut, EmbeddingsOut, ModelList
from app.services.chat_deltas import ReplyDeltas
from app.services.chat_requests import chat_completion_request
from app.services.completions import completion_streams, queue_completion, wait_for_completion
from app.services.embeddings import embed
from app.services.screening import screen_input
from app.services.tool_calls import assistant_message
from app.streams import TokenStreams

bp = Blueprint("openai", __name__, url_prefix="/v1")


def embedding_model_name() -> str:
    path = str(getattr(resources().settings, "embedding_model_path", "") or "")
    return path.rstrip("/").rsplit("/", 1)[-1] if path else "all-MiniLM-L6-v2"


def check_model(name: str, served: str) -> None:
    if name != served:
        raise NotFound(f"model {name!r} does not exist; this server serves {served!r}")


@bp.get("/models")
@documented(summary="OpenAI models: the chat model and the embedding model", response=ModelList)
def list_models() -> Response:
    key_or_jwt_user()
    return jsonify(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "queuechat"}
                for name in (resources().settings.served_model_name, embedding_model_name())
            ],
        }
    )


def usage_of(item: BatchItem | dict[str, Any]) -> dict[str, int]:
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name)
    prompt, completion = int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


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
    check_model(body.model, res.settings.served_model_name)
    db = get_db()
    user_texts = [m.as_turn()["content"] for m in body.messages if m.role == "user"]
    screen_input(res, db, user_texts, template_name=wanted.get("template"), actor=user,
                 ip=client_address())  # fmt: skip
    item = queue_completion(res, db, user.id, wanted, caller_api_key_id())
    meta = {"id": f"chatcmpl-{item.id}", "created": int(time.time()), "model": body.model}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        streams = completion_streams(res)
        deltas = ReplyDeltas(wanted, item.id)
        timeout_s = res.settings.api_wait_timeout_s
        return sse_response(sse(streams, timeout_s, item.id, meta, include_usage, deltas))
    item = wait_for_completion(res, db, item)
    message, finish_reason = assistant_message(
        wanted, item.output or "", item.finish_reason or "stop", item.id
    )
    return jsonify(
        {
            **meta,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage_of(item),
        }
    )


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

    def encode(vector: list[float]) -> list[float] | str:
        if body.encoding_format == "float":
            return vector
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()

    tokens = result.prompt_tokens
    return jsonify(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": encode(vector)}
                for i, vector in enumerate(result.vectors)
            ],
            "model": body.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
