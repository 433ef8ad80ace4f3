"""/v1/completions: a raw text prompt continued (no chat template), streamed as SSE or not.

The same path as chat completions: a BatchItem without a batch on queue ``inference``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from app.api.deps import key_or_jwt_user, parse_openai_body
from app.api.openapi import documented
from app.api.rate_limits import api_caller, rate_limited
from app.api.v1_calls import queued_request
from app.api.v1_sse import completion_events, sse_data, sse_response
from app.errors import InvalidInput
from app.extensions import get_db, resources
from app.schemas.openai_api import TextCompletionOut
from app.schemas.openai_completions import CompletionBody
from app.services.completions import completion_streams, wait_for_completion
from app.services.openai_results import COMPLETIONS, response_body, usage_of
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
    try:
        wanted = body.stored(res.settings)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    item, meta = queued_request(user, body.model, wanted, [body.text], "cmpl")
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        streams = completion_streams(res)
        return sse_response(
            sse(streams, res.settings.api_wait_timeout_s, item.id, meta, include_usage)
        )
    item = wait_for_completion(res, get_db(), item)
    return jsonify({**response_body(COMPLETIONS, item, meta["created"]), **meta})


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
