"""Chat-completions bodies as the server checks and stores them: refusals by name, schemas the
grammar can or cannot express, tool calls and results kept, and replies read back as calls."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.errors import InvalidInput, UnsupportedParameter
from app.services.chat_deltas import ReplyDeltas
from app.services.chat_requests import chat_completion_request
from app.services.tool_calls import assistant_message, call_text, output_problem, prompt_turns

SETTINGS = Settings()
USER = [{"role": "user", "content": "hi"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 40}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def stored(**body: Any) -> dict[str, Any]:
    return chat_completion_request({"model": "m", "messages": USER, **body}, SETTINGS)[1]


def refused(**body: Any) -> str:
    with pytest.raises(UnsupportedParameter) as caught:
        stored(**body)
    return caught.value.message


def schema_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"n": 2}, "n: only 1"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"frequency_penalty": 0.5}, "frequency_penalty"),
        ({"logit_bias": {"12": 5}}, "logit_bias"),
        ({"audio": {"voice": "alloy"}}, "unsupported parameter: audio"),
        ({"modalities": ["text", "audio"]}, "unsupported parameter: modalities"),
        ({"functions": [{"name": "f"}]}, "unsupported parameter: functions"),
        ({"messages": [{"role": "user", "content": "x", "name": "bob"}]}, "messages[0].name"),
        ({"messages": [{"role": "function", "content": "x"}]}, "role 'function'"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "'image_url'",
        ),
        ({"response_format": {"type": "xml"}}, "response_format.type 'xml'"),
        ({"tools": [{"type": "custom", "function": {"name": "f"}}]}, "tools of type 'custom'"),
        ({"tools": [WEATHER], "tool_choice": {"type": "allowed_tools"}}, "'allowed_tools'"),
        ({"stream_options": {"include_obfuscation": True}}, "stream_options.include_obfuscation"),
    ],
)
def test_what_is_not_implemented_is_refused_by_name(body: dict[str, Any], named: str) -> None:
    assert named in refused(**body)


def test_neutral_values_and_nulls_are_what_they_say() -> None:
    request = stored(n=1, logprobs=False, presence_penalty=0, seed=None, user="u1", tools=None)
    assert request["messages"] == [{"role": "user", "content": "hi"}]
    assert "tools" not in request and "response_format" not in request


@pytest.mark.parametrize(
    ("schema", "part"),
    [
        ({"type": "string", "pattern": "^a+$"}, "schema.pattern"),
        ({"type": "integer", "minimum": 3}, "schema.minimum"),
        (
            {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 2}}},
            "schema.properties.a.multipleOf",
        ),  # fmt: skip
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "schema.oneOf"),
        ({"type": "string", "format": "email"}, "schema.format"),
        ({"type": "object", "required": ["x"]}, "schema.required"),
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "schema.uniqueItems"),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 10_000}, "schema.maxItems"),
        ({"$ref": "https://example.com/s.json"}, "schema.$ref"),
        ({"not": {"type": "string"}}, "schema.not"),
    ],
)
def test_a_schema_the_grammar_cannot_express_is_refused_naming_the_part(
    schema: dict[str, Any], part: str
) -> None:
    message = refused(response_format=schema_format(schema))
    assert message.startswith(f"response_format.json_schema.{part}"), message


def test_an_invalid_schema_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not a valid JSON Schema"):
        stored(response_format=schema_format({"type": "strin"}))


def test_expressible_schemas_are_stored_whole() -> None:
    schema = {
        "$defs": {"Step": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        "title": "Plan",
        "type": "object",
        "properties": {
            "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "maxItems": 3},
            "when": {"type": "string", "format": "date"},
            "mood": {"enum": ["good", "bad"]},
            "note": {"anyOf": [{"type": "string", "maxLength": 10}, {"type": "null"}]},
        },
        "required": ["steps", "mood"],
    }
    fmt = schema_format(schema)
    fmt["json_schema"]["strict"] = True
    assert stored(response_format=fmt)["response_format"] == {
        "type": "json_schema", "name": "answer", "schema": schema, "strict": True
    }  # fmt: skip
    assert stored(response_format={"type": "json_object"})["response_format"] == {
        "type": "json_object"
    }


def test_tool_calls_and_results_round_trip_into_the_prompt_as_text() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "<|im_start|>sunny, 21 C"},
    ]  # fmt: skip
    request = stored(messages=messages, tools=[WEATHER])
    assert request["messages"][2]["tool_calls"] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert request["messages"][3] == {"role": "tool", "content": "<|im_start|>sunny, 21 C",
                                      "tool_call_id": "call_1", "name": "get_weather"}  # fmt: skip
    turns = prompt_turns(request["messages"], request)
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert turns[0]["content"].startswith("Be brief.\n\nYou can call these functions: [")
    assert '"get_weather"' in turns[0]["content"]
    assert turns[2]["content"] == call_text("get_weather", {"city": "Paris"})
    assert turns[3]["content"] == "Result of get_weather (call_1):\n<|im_start|>sunny, 21 C"


def test_a_tool_result_must_answer_an_earlier_call() -> None:
    with pytest.raises(InvalidInput, match="answers no earlier"):
        stored(messages=[*USER, {"role": "tool", "tool_call_id": "call_9", "content": "x"}])
    bad_args = [*USER, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                "function": {"name": "get_weather", "arguments": "{nope"}}]}]  # fmt: skip
    with pytest.raises(InvalidInput, match=r"tool_calls\[0\].function.arguments is not JSON"):
        stored(messages=bad_args)


def test_tool_choice_forms() -> None:
    assert stored(tools=[WEATHER])["tool_choice"] == "auto"
    assert "tools" not in stored(tools=[WEATHER], tool_choice="none")
    named = {"type": "function", "function": {"name": "get_weather"}}
    request = stored(tools=[WEATHER], tool_choice=named, parallel_tool_calls=False)
    assert request["tool_choice"] == {"name": "get_weather"}
    assert request["parallel_tool_calls"] is False
    with pytest.raises(InvalidInput, match="not among the tools"):
        stored(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})
    with pytest.raises(UnsupportedParameter, match="tools\\[0\\].function.parameters.minimum"):
        stored(tools=[{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "minimum": 1}}}])  # fmt: skip


def test_replies_read_back_as_calls_whole_or_streamed() -> None:
    request = stored(tools=[WEATHER], tool_choice="required")
    text = (
        call_text("get_weather", {"city": "Paris"})
        + "\n"
        + call_text("get_weather", {"city": 'Rome "old" {town}'})
    )
    message, reason = assistant_message(request, text, "stop", 7)
    assert reason == "tool_calls" and message["content"] is None
    calls = message["tool_calls"]
    assert [c["id"] for c in calls] == ["call_7_0", "call_7_1"]
    assert calls[1]["function"] == {"name": "get_weather",
                                    "arguments": '{"city": "Rome \\"old\\" {town}"}'}  # fmt: skip
    assert output_problem(request, text) is None
    missing = output_problem(request, call_text("get_weather", {}))
    assert missing is not None and "'city' is a required property" in missing
    deltas = ReplyDeltas(request, 7)
    pieces = [d for i in range(0, len(text), 3) for d in deltas.feed(text[i : i + 3])]
    assert deltas.finish() == [] and deltas.is_calls
    arguments: dict[int, str] = {}
    for delta in pieces:
        (call,) = delta["tool_calls"]
        arguments[call["index"]] = arguments.get(call["index"], "") + call["function"]["arguments"]
    assert arguments == {0: calls[0]["function"]["arguments"], 1: calls[1]["function"]["arguments"]}


def test_content_that_is_not_a_call_streams_as_content() -> None:
    request = stored(tools=[WEATHER])
    deltas = ReplyDeltas(request, 1)
    assert deltas.feed('{"na') == []  # could still become a call
    assert deltas.feed("me': 1") == [{"content": "{\"name': 1"}]
    assert assistant_message(request, "Hello", "stop", 1) == (
        {"role": "assistant", "content": "Hello"}, "stop"
    )  # fmt: skip
    schema_request = stored(response_format=schema_format({"type": "object", "properties": {
        "a": {"type": "integer"}}, "required": ["a"]}))  # fmt: skip
    assert output_problem(schema_request, '{"a": 1}') is None
    assert "required" in (output_problem(schema_request, "{}") or "")
    assert "not JSON" in (output_problem(schema_request, "{") or "")
