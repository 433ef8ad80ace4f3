"""Tool calls and structured output as text: how the prompt presents them, the form the
grammar makes a call take, and how a reply's text becomes OpenAI's ``tool_calls``.

A call is ``{"name": "<function>", "arguments": {...}}``; parallel calls are lines one after
another. A model whose chat template has its own tool format gets that format, the tools listed
and the results shown by the template itself: ``HERMES`` (each call inside ``<tool_call>``
tags: Qwen2.5, Qwen3, Hermes) or ``LLAMA3`` (``"parameters"`` for the arguments, results in
``ipython`` turns: Llama 3.1 to 3.3); any other model gets plain JSON lines (``JSON_LINES``,
the tools listed in the system message). The web stamps the format on the request from the
model's template (app/services/chat_tokens.py) and the grammar makes the calls hold to it. Tool
schemas, arguments and results enter the prompt only as text, never as template syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.services.json_schemas import validation_errors

CALL_OPEN = '{"name": "'
ARGUMENTS_KEY = '", "arguments": '
ChatTurn = dict[str, str]


@dataclass(frozen=True)
class ToolFormat:
    name: str
    before: str = ""  # written before each call's JSON
    after: str = ""  # and after it
    native: bool = False  # the chat template lists the tools and shows the results itself
    arguments_key: str = ARGUMENTS_KEY  # between the name and the arguments

    @property
    def open(self) -> str:
        return self.before + CALL_OPEN

    @property
    def close(self) -> str:
        return "}" + self.after


JSON_LINES = ToolFormat("json")
HERMES = ToolFormat("hermes", "<tool_call>\n", "\n</tool_call>", native=True)
LLAMA3 = ToolFormat("llama3", native=True, arguments_key='", "parameters": ')
TOOL_FORMATS = {fmt.name: fmt for fmt in (JSON_LINES, HERMES, LLAMA3)}


def template_tool_format(template: str) -> str:
    """The tool format a chat template has: calls in <tool_call> tags (Qwen, Hermes), or
    Llama 3.1's ``{"name": ..., "parameters": ...}`` with results in ``ipython`` turns; else
    JSON lines."""
    if "tools" not in template:
        return JSON_LINES.name
    if "<tool_call>" in template:
        return HERMES.name
    if "ipython" in template and '"parameters": ' in template:
        return LLAMA3.name
    return JSON_LINES.name


def tool_format(request: dict[str, Any]) -> ToolFormat:
    return TOOL_FORMATS.get(request.get("tool_format") or "", JSON_LINES)


def native_tools(request: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The tools the chat template lists itself (its own tool format), else None."""
    return request.get("tools") if tool_format(request).native else None


def call_text(name: str, arguments: dict[str, Any], fmt: ToolFormat = JSON_LINES) -> str:
    """A call as the model writes it (and as an earlier call is shown back to it)."""
    return f"{call_prefix(name, fmt)}{json.dumps(arguments, ensure_ascii=False)}{fmt.close}"


def call_prefix(name: str, fmt: ToolFormat = JSON_LINES) -> str:
    return f"{fmt.open}{name}{fmt.arguments_key}"


def instruction(request: dict[str, Any]) -> str | None:
    """What the system message adds for tools and structured output, as plain text."""
    parts: list[str] = []
    tools = request.get("tools")
    if tools:
        listing = json.dumps(tools, ensure_ascii=False)
        choice = request.get("tool_choice", "auto")
        how = (
            f"Call the function {choice['name']}." if isinstance(choice, dict)
            else "Call one or more of the functions." if choice == "required"
            else "Call a function when it helps; otherwise answer normally."
        )  # fmt: skip
        if tool_format(request).native:  # the template lists them and says how to call
            parts.append(how)
        else:
            parts.append(
                f"You can call these functions: {listing}\n{how} To call one, write a line "
                f"{CALL_OPEN}<function name>{ARGUMENTS_KEY}<arguments as a JSON object>}}"
            )
    response_format = request.get("response_format")
    if response_format and response_format["type"] == "json_schema":
        schema = json.dumps(response_format["schema"], ensure_ascii=False)
        parts.append(f"Answer with a JSON object that follows this JSON Schema: {schema}")
    elif response_format:
        parts.append("Answer with a JSON object.")
    return "\n\n".join(parts) or None


def prompt_turns(messages: list[dict[str, Any]], request: dict[str, Any]) -> list[ChatTurn]:
    """Role and content only: earlier calls written as the model writes them, tool results as
    labelled user turns (templates without a tool format know system, user and assistant; one
    with its own shows ``tool`` turns its way), the instruction added to the first system
    message (or a new one)."""
    fmt = tool_format(request)
    turns: list[ChatTurn] = []
    for message in messages:
        content = str(message.get("content") or "")
        if message["role"] == "tool" and fmt.native:
            turns.append({"role": "tool", "content": content})
            continue
        if message["role"] == "tool":
            label = f"Result of {message.get('name', 'the function')} ({message['tool_call_id']}):"
            turns.append({"role": "user", "content": f"{label}\n{content}"})
            continue
        calls = [call_text(c["name"], c["arguments"], fmt) for c in message.get("tool_calls", [])]
        text = "\n".join(([content] if content else []) + calls)
        turns.append({"role": message["role"], "content": text})
    added = instruction(request)
    if added is None:
        return turns
    if turns and turns[0]["role"] == "system":
        return [{"role": "system", "content": f"{turns[0]['content']}\n\n{added}"}, *turns[1:]]
    return [{"role": "system", "content": added}, *turns]


@dataclass
class ScannedCall:
    name: str | None  # None until its name is complete
    arguments: str  # the arguments' JSON text so far
    complete: bool = False


def scan_calls(text: str, fmt: ToolFormat = JSON_LINES) -> list[ScannedCall] | None:
    """The calls in a reply's text so far; None when it is not (or cannot become) calls."""
    opening, closing = fmt.open, fmt.close
    calls: list[ScannedCall] = []
    position = 0
    while True:
        while position < len(text) and text[position] in " \n":
            position += 1
        if position == len(text):
            return calls
        rest = text[position:]
        if not rest.startswith(opening):
            return calls if opening.startswith(rest) else None
        name_end = text.find('"', position + len(opening))
        if name_end < 0:
            return [*calls, ScannedCall(None, "")]
        name = text[position + len(opening) : name_end]
        after_name = text[name_end:]
        key = fmt.arguments_key
        if not after_name.startswith(key):
            return [*calls, ScannedCall(name, "")] if key.startswith(after_name) else None
        start = name_end + len(key)
        end = json_value_end(text, start)
        if end is None:
            calls.append(ScannedCall(name, text[start:]))
            return calls
        close = text[end:].lstrip(" ")
        if len(close) < len(closing) and closing.startswith(close):
            calls.append(ScannedCall(name, text[start:end]))
            return calls
        if not close.startswith(closing):
            return None
        calls.append(ScannedCall(name, text[start:end], complete=True))
        position = len(text) - len(close) + len(closing)


def json_value_end(text: str, start: int) -> int | None:
    """Where the JSON object or array at ``start`` ends (None while it is open)."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def starts_a_call(request: dict[str, Any], text: str) -> bool | None:
    """Whether the reply is calls: True, False, or None while its start could still be one
    (a call starts the reply right away; content never starts like one, the grammar sees to it).
    """
    fmt = tool_format(request)
    prefixes = [call_prefix(tool["name"], fmt) for tool in request.get("tools") or []]
    if any(text.startswith(prefix) for prefix in prefixes):
        return True
    if any(prefix.startswith(text) for prefix in prefixes):
        return None
    return False


def reply_calls(request: dict[str, Any], text: str) -> list[ScannedCall] | None:
    """The reply's calls when it is calls (else None: it is content)."""
    if not starts_a_call(request, text):
        return None
    return scan_calls(text, tool_format(request))


def call_id(item_id: int, index: int) -> str:
    return f"call_{item_id}_{index}"


def assistant_message(
    request: dict[str, Any], text: str, finish_reason: str, item_id: int
) -> tuple[dict[str, Any], str]:
    """OpenAI's message for a finished reply, and its finish reason."""
    calls = reply_calls(request, text)
    if calls is None:
        return {"role": "assistant", "content": text}, finish_reason
    tool_calls = [
        {
            "id": call_id(item_id, i),
            "type": "function",
            "function": {"name": call.name or "", "arguments": call.arguments},
        }  # fmt: skip
        for i, call in enumerate(calls)
    ]
    reason = "tool_calls" if finish_reason == "stop" else finish_reason
    return {"role": "assistant", "content": None, "tool_calls": tool_calls}, reason


def output_problem(request: dict[str, Any], text: str) -> str | None:
    """Why a reply that ended by itself (not cut by max_tokens) breaks its schema, if it does:
    the grammar should make this impossible, so a problem fails the reply instead of passing
    invalid JSON on."""
    calls = reply_calls(request, text)
    if calls is not None:
        functions = {tool["name"]: tool["parameters"] for tool in request["tools"]}
        for i, call in enumerate(calls):
            if not call.complete or call.name not in functions:
                return f"tool call {i} is not a complete call of a given function"
            try:
                arguments = json.loads(call.arguments)
            except ValueError as exc:
                return f"tool call {i}: the arguments are not JSON ({exc})"
            problem = validation_errors(functions[call.name], arguments)
            if problem is not None:
                return f"tool call {i} ({call.name}): {problem}"
        return None
    response_format = request.get("response_format")
    if request.get("tool_choice") in ("required",) or isinstance(request.get("tool_choice"), dict):
        return "the reply is not a tool call"
    if response_format is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"the reply is not JSON ({exc})"
    schema = response_format.get("schema", {"type": "object"})
    problem = validation_errors(schema, value)
    return None if problem is None else f"the reply does not follow the schema: {problem}"
