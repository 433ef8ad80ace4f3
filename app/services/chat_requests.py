"""An OpenAI chat-completions body, checked, as the request a worker runs.

``chat_completion_request`` is the one entry point for /v1/chat/completions and for batch
lines that target it: it refuses what the server does not implement (400 naming it), checks
``response_format`` and ``tools`` (their schemas must be ones the grammar enforces), and
returns the stored form: messages (tool calls and tool results kept), sampling, stops, and
the structured-output and tool settings the worker builds its grammar from.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from app.config import Settings
from app.errors import ApiError, InvalidInput, UnsupportedParameter
from app.schemas.openai import UNSUPPORTED, ApiMessage, ChatCompletionBody, ToolIn
from app.services.chat_tokens import model_tool_format
from app.services.json_schemas import check_schema

MAX_SCHEMA_NAME = 64


def chat_completion_request(
    data: Any, settings: Settings
) -> tuple[ChatCompletionBody, dict[str, Any]]:
    """The parsed body and its stored request; ApiError (400 or 422) naming what is wrong."""
    try:
        body = ChatCompletionBody.model_validate(data)
    except ValidationError as exc:
        raise refusal_or_invalid(exc) from exc
    try:
        stored = body.generation_request().stored_sampling(settings)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    stored["messages"] = stored_messages(body.messages)
    stored["template"] = None
    response_format = response_format_spec(body.response_format)
    if response_format is not None:
        stored["response_format"] = response_format
    stored.update(tools_spec(body.tools, body.tool_choice, body.parallel_tool_calls))
    history_calls = any(m.get("tool_calls") or m["role"] == "tool" for m in stored["messages"])
    if stored.get("tools") or history_calls:  # the model's own way where its template has one
        stored["tool_format"] = model_tool_format(settings, body.model)
    return body, stored


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def refusal_or_invalid(exc: ValidationError) -> ApiError:
    """400 for a parameter the server does not implement, else 422 with the first problem."""
    errors = exc.errors(include_url=False, include_input=False)
    for error in errors:
        where = field_path(error["loc"])
        if error["type"] == "extra_forbidden":
            return UnsupportedParameter(f"unsupported parameter: {where}", param=where or None)
        if error["type"] == UNSUPPORTED:
            message = f"{where}: {error['msg']}" if where else error["msg"]
            return UnsupportedParameter(message, param=where or None)
    details = [{"field": field_path(e["loc"]), "message": e["msg"]} for e in errors]
    first = f"{details[0]['field']}: {details[0]['message']}" if details else ""
    return InvalidInput(f"the request body is invalid ({first})", details=details)


def stored_messages(messages: list[ApiMessage]) -> list[dict[str, Any]]:
    """Role and text per message; an assistant's calls and a tool's call id kept, each tool
    result matched to a call made before it."""
    stored: list[dict[str, Any]] = []
    calls: dict[str, str] = {}  # call id -> function name
    for i, message in enumerate(messages):
        turn: dict[str, Any] = message.as_turn()
        if message.tool_calls:
            turn["tool_calls"] = []
            for j, call in enumerate(message.tool_calls):
                where = f"messages[{i}].tool_calls[{j}].function.arguments"
                turn["tool_calls"].append(
                    {
                        "id": call.id,
                        "name": call.function.name,
                        "arguments": json_object(call.function.arguments, where),
                    }  # fmt: skip
                )
                calls[call.id] = call.function.name
        if message.tool_call_id is not None:
            if message.tool_call_id not in calls:
                raise InvalidInput(
                    f"messages[{i}].tool_call_id {message.tool_call_id!r} answers no earlier "
                    "assistant tool call"
                )
            turn["tool_call_id"] = message.tool_call_id
            turn["name"] = calls[message.tool_call_id]
        stored.append(turn)
    return stored


def json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{where} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"{where} must be a JSON object")
    return value


def response_format_spec(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """{"type": "json_object"} or {"type": "json_schema", "name", "schema", "strict"}; text is
    the default (None). Every schema is enforced by the grammar, strict or not."""
    if value is None:
        return None
    kind = value.get("type")
    if kind == "text" and set(value) == {"type"}:
        return None
    if kind == "json_object":
        extra = sorted(set(value) - {"type"})
        if extra:
            raise UnsupportedParameter(f"unsupported parameter: response_format.{extra[0]}")
        return {"type": "json_object"}
    if kind != "json_schema":
        raise UnsupportedParameter(
            f"response_format.type {kind!r} is not supported (text, json_object, json_schema)"
        )
    extra = sorted(set(value) - {"type", "json_schema"})
    if extra:
        raise UnsupportedParameter(f"unsupported parameter: response_format.{extra[0]}")
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise InvalidInput("response_format.json_schema must be an object")
    extra = sorted(set(spec) - {"name", "description", "schema", "strict"})
    if extra:
        raise UnsupportedParameter(f"unsupported parameter: response_format.json_schema.{extra[0]}")
    name = spec.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_SCHEMA_NAME:
        raise InvalidInput(
            f"response_format.json_schema.name must be 1-{MAX_SCHEMA_NAME} characters"
        )
    schema = spec.get("schema", {"type": "object"})
    check_schema(schema, "response_format.json_schema.schema")
    return {"type": "json_schema", "name": name, "schema": schema,
            "strict": bool(spec.get("strict"))}  # fmt: skip


def tools_spec(
    tools: list[ToolIn] | None, choice: str | dict[str, Any] | None, parallel: bool
) -> dict[str, Any]:
    """The tools a reply may call ({} when none may be called): functions, the choice
    ("auto", "required" or {"name"}), and whether several calls may come in one reply."""
    if not tools:
        if choice not in (None, "none", "auto"):
            raise InvalidInput("tool_choice needs tools")
        return {}
    names = [tool.function.name for tool in tools]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InvalidInput(f"tools[{i}].function.name {name!r} is given twice")
    for i, tool in enumerate(tools):
        check_schema(tool.function.parameters, f"tools[{i}].function.parameters")
        if tool.function.parameters.get("type", "object") != "object":
            raise InvalidInput(f"tools[{i}].function.parameters must describe an object")
    mode = named_choice(choice, names)
    if mode == "none":
        return {}
    functions = [
        {
            "name": t.function.name,
            "description": t.function.description,
            "parameters": t.function.parameters,
        }  # fmt: skip
        for t in tools
    ]
    return {"tools": functions, "tool_choice": mode, "parallel_tool_calls": parallel}


def named_choice(choice: str | dict[str, Any] | None, names: list[str]) -> str | dict[str, str]:
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise UnsupportedParameter(
                f"tool_choice {choice!r} is not supported (none, auto, required or a function)"
            )
        return choice
    if choice.get("type") != "function":
        raise UnsupportedParameter(
            f"tool_choice of type {choice.get('type')!r} is not supported (function only)"
        )
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if set(choice) != {"type", "function"} or set(function or {}) != {"name"}:
        raise InvalidInput('tool_choice must be {"type": "function", "function": {"name": ...}}')
    if name not in names:
        raise InvalidInput(f"tool_choice names {name!r}, which is not among the tools")
    return {"name": str(name)}
