"""What the Batch API's output and error files hold: one line per request, in OpenAI's result
format (``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``),
the body shaped as the endpoint answers it live."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterable
from typing import Any

from app.enums import BatchStatus, ItemStatus
from app.models import BatchItem, as_utc
from app.services.tool_calls import assistant_message

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
EMBEDDINGS = "/v1/embeddings"
ENDPOINTS = (CHAT, COMPLETIONS, EMBEDDINGS)
PROMPT_TOO_LONG = "the prompt ("  # how PromptTooLong's message starts: the request's fault
UNFINISHED = {
    BatchStatus.EXPIRED: (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    BatchStatus.CANCELLED: ("batch_cancelled", "This request was cancelled with its batch."),
}


def usage_of(item: BatchItem | dict[str, Any]) -> dict[str, int]:
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name)
    prompt, completion = int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def encoded_vector(vector: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def embeddings_answer(
    vectors: list[list[float]], encoding_format: str, model: str, tokens: int
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encoded_vector(v, encoding_format)}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def response_body(endpoint: str, item: BatchItem, created: int) -> dict[str, Any]:
    """A finished request's answer, as the live endpoint gives it."""
    model = str(item.request.get("model", ""))
    if endpoint == EMBEDDINGS:
        vectors: list[list[float]] = json.loads(item.output or "[]")
        encoding = str(item.request.get("encoding_format", "float"))
        return embeddings_answer(vectors, encoding, model, int(item.prompt_tokens or 0))
    finish_reason = item.finish_reason or "stop"
    if endpoint == COMPLETIONS:
        choice: dict[str, Any] = {
            "text": item.output or "",
            "index": 0,
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        kind, prefix = "text_completion", "cmpl"
    else:  # content, or the tool calls a tools request answered with
        message, finish_reason = assistant_message(
            item.request, item.output or "", finish_reason, item.id
        )
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        kind, prefix = "chat.completion", "chatcmpl"
    return {
        "id": f"{prefix}-{item.id}",
        "object": kind,
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage_of(item),
    }


def result_line(endpoint: str, batch_status: BatchStatus, item: BatchItem) -> tuple[bool, str]:
    """(goes to the output file, the JSONL line) for a final item."""
    created = int(as_utc(item.completed_at or item.created_at).timestamp())
    line: dict[str, Any] = {"id": f"batch_req_{item.id}", "custom_id": item.custom_id}
    ok = item.status == ItemStatus.DONE
    if ok:
        line["response"] = {
            "status_code": 200,
            "request_id": f"req_{item.id}",
            "body": response_body(endpoint, item, created),
        }
        line["error"] = None
    elif item.status == ItemStatus.FAILED:
        message = item.error or "the request failed"
        client_fault = message.startswith(PROMPT_TOO_LONG)
        line["response"] = {
            "status_code": 400 if client_fault else 500,
            "request_id": f"req_{item.id}",
            "body": {
                "error": {
                    "message": message,
                    "type": "invalid_request_error" if client_fault else "server_error",
                    "param": None,
                    "code": "context_length_exceeded" if client_fault else "generation_failed",
                }
            },
        }
        line["error"] = None
    else:  # cancelled with its batch, or dropped when the window ran out
        code, message = UNFINISHED.get(batch_status, UNFINISHED[BatchStatus.CANCELLED])
        line["response"] = None
        line["error"] = {"code": code, "message": message}
    return ok, json.dumps(line, ensure_ascii=False)


def result_files(
    endpoint: str, batch_status: BatchStatus, items: Iterable[BatchItem]
) -> tuple[bytes, bytes]:
    """The output file (requests that succeeded) and the error file (the others), in input
    order."""
    output: list[str] = []
    errors: list[str] = []
    for item in items:
        ok, line = result_line(endpoint, batch_status, item)
        (output if ok else errors).append(line + "\n")
    return "".join(output).encode("utf-8"), "".join(errors).encode("utf-8")
