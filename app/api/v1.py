"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (SSE or not), /v1/embeddings.

Authenticated by API keys; requests go through the same queues and workers as chat.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from app.api.deps import key_or_jwt_user, parse_lenient_body
from app.api.rate_limits import api_caller, rate_limited
from app.errors import InvalidInput, NotFound
from app.extensions import get_db, resources
from app.models import BatchItem
from app.schemas.openai import ChatCompletionBody, EmbeddingsBody
from app.services.completions import (
    CompletionTimeout,
    completion_streams,
    follow,
    queue_completion,
    wait_for_completion,
)
from app.services.embeddings import embed
from app.streams import TokenStreams

bp = Blueprint("openai", __name__, url_prefix="/v1")


def embedding_model_name() -> str:
    path = str(getattr(resources().settings, "embedding_model_path", "") or "")
    return path.rstrip("/").rsplit("/", 1)[-1] if path else "all-MiniLM-L6-v2"


def check_model(name: str, served: str) -> None:
    if name != served:
        raise NotFound(f"model {name!r} does not exist; this server serves {served!r}")


@bp.get("/models")
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
@rate_limited("rate_limit_messages", by=api_caller, what="completions")
def chat_completions() -> Response:
    user = key_or_jwt_user()
    body = parse_lenient_body(ChatCompletionBody)
    res = resources()
    check_model(body.model, res.settings.served_model_name)
    try:
        wanted = body.generation_request().stored(res.settings)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    db = get_db()
    item = queue_completion(res, db, user.id, wanted)
    meta = {"id": f"chatcmpl-{item.id}", "created": int(time.time()), "model": body.model}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        streams = completion_streams(res)
        events = sse(streams, res.settings.api_wait_timeout_s, item.id, meta, include_usage)
        response = Response(events, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response
    item = wait_for_completion(res, db, item)
    return jsonify(
        {
            **meta,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": item.output or ""},
                    "finish_reason": item.finish_reason or "stop",
                }
            ],
            "usage": usage_of(item),
        }
    )


def sse_error(message: str, kind: str) -> str:
    return f"data: {json.dumps({'error': {'message': message, 'type': kind}})}\n\n"


def sse(
    streams: TokenStreams,
    timeout_s: float,
    item_id: int,
    meta: dict[str, Any],
    include_usage: bool,
) -> Iterator[str]:
    """Chunks in OpenAI's format; a client that disconnects cancels the generation.

    Runs after the view returned (outside the app context): it gets everything it needs.
    """
    finished = False

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        payload = {
            **meta,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        for event in follow(streams, item_id, timeout_s):
            data = event.data
            if event.type == "token":
                yield chunk({"content": data["text"]})
            elif event.type == "done":
                finished = True
                yield chunk({}, data.get("finish_reason") or "stop")
                if include_usage:
                    usage = {
                        **meta,
                        "object": "chat.completion.chunk",
                        "choices": [],
                        "usage": usage_of(data),
                    }
                    yield f"data: {json.dumps(usage)}\n\n"
            elif event.is_final:
                finished = True
                message = data.get("error") or f"the completion ended as {data.get('status')}"
                yield sse_error(message, "server_error")
        yield "data: [DONE]\n\n"
    except CompletionTimeout as exc:
        yield sse_error(str(exc), "timeout")
    finally:
        if not finished:
            streams.request_cancel(item_id)


@bp.post("/embeddings")
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
