"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (SSE or not), /v1/embeddings.

Authenticated by API keys; requests go through the same queues and workers as chat.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError

from app.api.openai_schemas import MAX_EMBED_INPUTS, ChatCompletionBody, EmbeddingsBody
from app.api.validation import MalformedJson
from app.api_keys import key_or_jwt_user
from app.batches import GenerationRequest
from app.completions import CompletionTimeout, follow, item_streams, queue_completion
from app.errors import ApiError, InvalidInput, NotFound, ServiceUnavailable, validation_details
from app.extensions import get_db, services
from app.models import BatchItem, ItemStatus
from app.streams import TokenStreams

bp = Blueprint("openai", __name__, url_prefix="/v1")
EMBED_RESULT_PREFIX = "qc:embed:"


class GenerationFailed(ApiError):
    status = 502
    code = "generation_failed"


class Timeout(ApiError):
    status = 504
    code = "timeout"


def parse(model: type[BaseModel]) -> Any:
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson("the request body is not valid JSON") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        first = f"{details[0]['field']}: {details[0]['message']}" if details else ""
        raise InvalidInput(f"the request body is invalid ({first})", details=details) from exc


def embedding_model_name() -> str:
    path = str(getattr(services().settings, "embedding_model_path", "") or "")
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
                for name in (services().settings.served_model_name, embedding_model_name())
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
def chat_completions() -> Response:
    user = key_or_jwt_user()
    body: ChatCompletionBody = parse(ChatCompletionBody)
    settings = services().settings
    check_model(body.model, settings.served_model_name)
    try:
        wanted = GenerationRequest.model_validate(
            {
                "messages": [m.as_turn() for m in body.messages],
                "max_tokens": body.max_completion_tokens or body.max_tokens,
                "temperature": body.temperature,
                "top_p": body.top_p,
                "seed": body.seed,
                "stop": body.stop,
            }
        ).stored(settings)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    db = get_db()
    item = queue_completion(db, user.id, wanted)
    meta = {"id": f"chatcmpl-{item.id}", "created": int(time.time()), "model": body.model}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = sse(item_streams(), settings.api_wait_timeout_s, item.id, meta, include_usage)
        response = Response(events, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response
    streams = item_streams()
    try:
        for _event in follow(streams, item.id, settings.api_wait_timeout_s):
            pass
    except CompletionTimeout as exc:
        streams.request_cancel(item.id)
        raise Timeout(f"the completion did not finish: {exc}") from exc
    db.refresh(item)
    if item.status != ItemStatus.DONE:
        raise GenerationFailed(f"the completion ended as {item.status}: {item.error or ''}")
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
def embeddings() -> Response:
    key_or_jwt_user()
    body: EmbeddingsBody = parse(EmbeddingsBody)
    settings = services().settings
    check_model(body.model, embedding_model_name())
    texts = body.texts()
    if not texts or len(texts) > MAX_EMBED_INPUTS:
        raise InvalidInput(f"input must hold 1 to {MAX_EMBED_INPUTS} texts")
    if any(not text or len(text) > settings.max_message_chars for text in texts):
        raise InvalidInput(f"each input must have 1 to {settings.max_message_chars} characters")
    request_id = uuid.uuid4().hex
    try:
        services().jobs.enqueue_embedding(request_id, texts)
        found = services().redis.blpop(
            [f"{EMBED_RESULT_PREFIX}{request_id}"], timeout=settings.embed_timeout_s
        )
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("the job queue is unavailable; try again shortly") from exc
    if found is None:
        raise Timeout("no ingest worker answered in time; is one running?")
    result = json.loads(found[1])
    if "error" in result:
        raise GenerationFailed(result["error"])
    tokens = int(result["prompt_tokens"])

    def encode(vector: list[float]) -> list[float] | str:
        if body.encoding_format == "float":
            return vector
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()

    return jsonify(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": encode(vector)}
                for i, vector in enumerate(result["vectors"])
            ],
            "model": body.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
