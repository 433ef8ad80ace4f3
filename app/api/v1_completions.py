"""/v1/completions: a raw text prompt continued (no chat template), streamed as SSE or not.

The same path as chat completions: a BatchItem without a batch on queue ``inference``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from app.api.deps import key_or_jwt_user, parse_openai_body
from app.api.openapi import documented
from app.api.rate_limits import api_caller, rate_limited
from app.api.v1_sse import completion_events, sse_data, sse_response
from app.errors import InvalidInput, NotFound
from app.extensions import get_db, resources
from app.schemas.openai_api import TextCompletionOut
from app.schemas.openai_completions import CompletionBody
from app.services.completions import completion_streams, queue_completion, wait_for_completion
from app.services.openai_results import usage_of
from app.streams import TokenStreams

bp = Blueprint("openai_completions", __name__, url_prefix="/v1")


@bp.post("/completions")
@documented(
    summary="OpenAI completions: the prompt continued as raw text (stream: text/event-stream)",
    body=CompletionBody,
    response=TextCompletionOut,
)
@rate_limited("rate_limit_messages", by=api_caller, what="completions")
def create_completion() -> Response:
    user = key_or_jwt_user()
    body = parse_openai_body(CompletionBody)
    res = resources()
    served = res.settings.served_model_name
    if body.model != served:
        raise NotFound(f"model {body.model!r} does not exist; this server serves {served!r}")
    try:
        wanted = body.stored(res.settings)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    db = get_db()
    item = queue_completion(res, db, user.id, wanted)
    meta = {"id": f"cmpl-{item.id}", "created": int(time.time()), "model": body.model}
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        streams = completion_streams(res)
        return sse_response(
            sse(streams, res.settings.api_wait_timeout_s, item.id, meta, include_usage)
        )
    item = wait_for_completion(res, db, item)
    return jsonify(
        {
            **meta,
            "object": "text_completion",
            "choices": [choice(item.output or "", item.finish_reason or "stop")],
            "usage": usage_of(item),
        }
    )


def choice(text: str, finish_reason: str | None) -> dict[str, Any]:
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}


def sse(
    streams: TokenStreams,
    timeout_s: float,
    item_id: int,
    meta: dict[str, Any],
    include_usage: bool,
) -> Iterator[str]:
    """Chunks in OpenAI's text_completion format."""

    def chunk(choices: list[dict[str, Any]], **more: Any) -> str:
        return sse_data({**meta, "object": "text_completion", "choices": choices, **more})

    def done(data: dict[str, Any]) -> Iterator[str]:
        yield chunk([choice("", data.get("finish_reason") or "stop")])
        if include_usage:
            yield chunk([], usage=usage_of(data))

    return completion_events(
        streams, timeout_s, item_id, lambda text: [chunk([choice(text, None)])], done
    )
