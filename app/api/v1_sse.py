"""Server-sent events of the /v1 completions (chat and text): one loop over the completion's
stream, shaped into chunks by the endpoint; a client that disconnects (or a stream that ends
without a final event) cancels the generation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Response

from app.services.completions import CompletionTimeout, follow
from app.streams import TokenStreams

OnToken = Callable[[str], Iterable[str]]  # a token's text -> the chunks it makes
OnDone = Callable[[dict[str, Any]], Iterable[str]]  # the done event's data -> the last chunks


def sse_response(events: Iterator[str]) -> Response:
    response = Response(events, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def sse_data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def sse_error(message: str, kind: str) -> str:
    return sse_data({"error": {"message": message, "type": kind}})


def completion_events(
    streams: TokenStreams,
    timeout_s: float,
    item_id: int,
    on_token: OnToken,
    on_done: OnDone,
    opening: Iterable[str] = (),
) -> Iterator[str]:
    """Runs after the view returned (outside the app context): it gets everything it needs."""
    finished = False
    try:
        yield from opening
        for event in follow(streams, item_id, timeout_s):
            data = event.data
            if event.type == "token":
                yield from on_token(data["text"])
            elif event.type == "done":
                finished = True
                yield from on_done(data)
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
