"""Batch input: a JSONL file validated whole (errors name their lines) before anything is queued."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.config import Settings
from app.errors import InvalidInput

MAX_REPORTED_ERRORS = 50
MAX_STOP_SEQUENCES = 4


class ChatTurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, StringConstraints(max_length=100_000)]


class GenerationRequest(BaseModel):
    """What one item asks for: messages (or a bare prompt), an optional template, sampling."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatTurnIn] | None = Field(default=None, min_length=1, max_length=200)
    prompt: str | None = None
    template: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None

    @model_validator(mode="after")
    def _one_input(self) -> GenerationRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give exactly one of 'messages' or 'prompt'")
        if isinstance(self.stop, list) and len(self.stop) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return self

    def stored(self, settings: Settings) -> dict[str, Any]:
        """The form workers read: messages, template, stop list and complete sampling."""
        if self.max_tokens is not None and self.max_tokens > settings.max_tokens_limit:
            raise ValueError(f"max_tokens is over the limit of {settings.max_tokens_limit}")
        if self.temperature is not None and self.temperature > settings.max_temperature:
            raise ValueError(f"temperature is over the limit of {settings.max_temperature}")
        messages = (
            [turn.model_dump() for turn in self.messages]
            if self.messages is not None
            else [{"role": "user", "content": self.prompt or ""}]
        )
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return {
            "messages": messages,
            "template": self.template,
            "stop": [s for s in stop if s],
            "sampling": {
                "max_tokens": self.max_tokens or settings.default_max_tokens,
                "temperature": (
                    settings.default_temperature if self.temperature is None else self.temperature
                ),
                "top_p": settings.default_top_p if self.top_p is None else self.top_p,
                "seed": self.seed,
            },
        }


class BatchLine(GenerationRequest):
    custom_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ParsedLine(BaseModel):
    line: int
    custom_id: str
    request: dict[str, Any]
    template: str | None


def parse_batch(data: bytes, settings: Settings) -> list[ParsedLine]:
    """Every line checked; one error anywhere rejects the file with all errors by line number."""
    if len(data) > settings.batch_max_bytes:
        raise InvalidInput(f"the batch file is over {settings.batch_max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the batch file is not UTF-8 text") from exc
    numbered = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not numbered:
        raise InvalidInput("the batch file has no requests")
    if len(numbered) > settings.batch_max_lines:
        raise InvalidInput(f"the batch file has over {settings.batch_max_lines} requests")
    parsed: list[ParsedLine] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, raw in numbered:
        try:
            line = BatchLine.model_validate(json.loads(raw))
            stored = line.stored(settings)
        except json.JSONDecodeError as exc:
            errors.append({"line": number, "message": f"not valid JSON: {exc.msg}"})
            continue
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                field = ".".join(str(part) for part in err["loc"])
                message = f"{field}: {err['msg']}" if field else err["msg"]
                errors.append({"line": number, "message": message})
            continue
        except ValueError as exc:
            errors.append({"line": number, "message": str(exc)})
            continue
        if line.custom_id in seen:
            errors.append(
                {
                    "line": number,
                    "message": f"custom_id {line.custom_id!r} repeats line {seen[line.custom_id]}",
                }
            )
            continue
        seen[line.custom_id] = number
        parsed.append(
            ParsedLine(
                line=number, custom_id=line.custom_id, request=stored, template=line.template
            )
        )
    if errors:
        lines = sorted({e["line"] for e in errors})
        shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
        raise InvalidInput(
            f"the batch file has errors on line(s) {shown}; nothing was queued",
            details=errors[:MAX_REPORTED_ERRORS],
        )
    return parsed
