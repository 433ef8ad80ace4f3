"""Batch input: a JSONL file validated whole (errors name their lines) before anything is queued."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from app.config import Settings
from app.errors import InvalidInput
from app.schemas.generation import BatchLine

MAX_REPORTED_ERRORS = 50


class ParsedLine(BaseModel):
    line: int
    custom_id: str
    request: dict[str, Any]
    template: str | None


def parse_batch(
    data: bytes, settings: Settings, defaults: dict[str, Any] | None = None
) -> list[ParsedLine]:
    """Every line checked; one error anywhere rejects the file with all errors by line number.
    ``defaults`` fill the fields a line leaves out (template, sampling)."""
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
            fields = json.loads(raw)
            if isinstance(fields, dict) and defaults:
                fields = {**defaults, **fields}
            line = BatchLine.model_validate(fields)
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
