"""A Batch API input file, validated whole: each line is ``{"custom_id", "method": "POST", "url",
"body"}`` whose body the endpoint it names would take live (the same models, the same
refusals). Problems come back as OpenAI's batch errors (``code``, ``message``, ``param``,
``line``); a file with any is a failed batch, and nothing of it is queued."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from app.config import Settings
from app.errors import ApiError, InvalidInput, NotFound, UnsupportedParameter
from app.schemas.openai import EmbeddingsBody
from app.schemas.openai_completions import CompletionBody
from app.schemas.openai_params import refuse_unsupported
from app.services.batch_input import MAX_REPORTED_ERRORS, ParsedLine
from app.services.batch_jobs import EMBEDDING_INPUT
from app.services.chat_requests import chat_completion_request
from app.services.embeddings import check_texts
from app.services.openai_results import CHAT, COMPLETIONS, EMBEDDINGS


class RequestLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    custom_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    method: Literal["POST"]
    url: str
    body: dict[str, Any]


@dataclass
class BatchInput:
    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, line: int | None, code: str, message: str, param: str | None = None) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"code": code, "message": message, "param": param, "line": line})


@dataclass(frozen=True)
class Models:
    """The names this server serves, by endpoint (the listed chat models, default first)."""

    chat: tuple[str, ...]
    embedding: str

    def for_endpoint(self, endpoint: str) -> tuple[str, ...]:
        return (self.embedding,) if endpoint == EMBEDDINGS else self.chat


def parse_input_file(data: bytes, settings: Settings, endpoint: str, models: Models) -> BatchInput:
    """Every line checked; the result holds either the lines to queue or the errors."""
    parsed = BatchInput()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        parsed.fail(None, "invalid_file", "the input file is not UTF-8 text")
        return parsed
    numbered = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not numbered:
        parsed.fail(None, "empty_file", "the input file has no requests")
    elif len(numbered) > settings.batch_max_lines:
        parsed.fail(
            None, "too_many_requests", f"the input file has over {settings.batch_max_lines} lines"
        )
    if parsed.errors:
        return parsed
    seen: dict[str, int] = {}
    for number, raw in numbered:
        line = parse_line(parsed, number, raw, settings, endpoint, models)
        if line is None:
            continue
        if line.custom_id in seen:
            parsed.fail(
                number,
                "duplicate_custom_id",
                f"custom_id {line.custom_id!r} repeats line {seen[line.custom_id]}",
                "custom_id",
            )
            continue
        seen[line.custom_id] = number
        parsed.lines.append(line)
    if parsed.errors:
        parsed.lines = []
    return parsed


def parse_line(
    parsed: BatchInput, number: int, raw: str, settings: Settings, endpoint: str, models: Models
) -> ParsedLine | None:
    try:
        line = RequestLine.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        parsed.fail(number, "invalid_json_line", f"not valid JSON: {exc.msg}")
        return None
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in err["loc"])
        parsed.fail(number, "invalid_request", f"{where}: {err['msg']}", where or None)
        return None
    if line.url != endpoint:
        parsed.fail(
            number,
            "mismatched_endpoint",
            f"url {line.url!r} is not the batch's endpoint {endpoint!r}",
            "url",
        )
        return None
    try:
        request = line_request(line.body, settings, endpoint, models)
    except ApiError as exc:
        code = "unsupported_parameter" if exc.status == 400 else "invalid_request"
        code = "model_not_found" if exc.status == 404 else code
        param = exc.param
        if param is not None and not param.startswith("body."):
            param = f"body.{param}"
        parsed.fail(number, code, exc.message, param)
        return None
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(["body", *(str(part) for part in err["loc"])])
        parsed.fail(number, "invalid_request", f"{where}: {err['msg']}", where)
        return None
    except ValueError as exc:
        parsed.fail(number, "invalid_request", f"body: {exc}", "body")
        return None
    return ParsedLine(line=number, custom_id=line.custom_id, request=request, template=None)


def line_request(
    body: dict[str, Any], settings: Settings, endpoint: str, models: Models
) -> dict[str, Any]:
    """The item's stored request for one line's body, refused as the live endpoint refuses it."""
    if body.get("stream"):
        raise UnsupportedParameter(
            "body.stream: a batch line is answered in the output file, not streamed",
            param="body.stream",
        )
    served = models.for_endpoint(endpoint)
    if endpoint == CHAT:
        chat, stored = chat_completion_request(body, settings)  # the live endpoint's checks
        model = chat.model
    elif endpoint == COMPLETIONS:
        refuse_unsupported(body, CompletionBody, where="body.")
        completion = CompletionBody.model_validate(body)
        model, stored = completion.model, completion.stored(settings)
    else:
        refuse_unsupported(body, EmbeddingsBody, where="body.")
        embeddings = EmbeddingsBody.model_validate(body)
        try:
            check_texts(settings, embeddings.texts())
        except InvalidInput as exc:
            raise InvalidInput(f"body.input: {exc.message}") from exc
        model = embeddings.model
        stored = {
            EMBEDDING_INPUT: embeddings.texts(),
            "encoding_format": embeddings.encoding_format,
        }
    if model not in served:
        raise NotFound(f"body.model {model!r} does not exist; this server serves "
                       f"{', '.join(served)} for {endpoint}")  # fmt: skip
    return {**stored, "model": model}
