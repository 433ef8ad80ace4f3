"""Structured output and tool calls with the official openai client, the running stack and the
real model. SmolLM2-135M writes poor content; the grammar is what makes it valid, so these
tests assert validity (parses, follows the schema, names a given function), not cleverness.
Schemas bound their strings so that a reply always ends within max_tokens."""

from __future__ import annotations

import json
from typing import Annotated, Any

import jsonschema
import openai
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel, Field

from app.config import Settings
from app.models import BatchItem
from testkit.processes import LiveServer, WorkerProcess
from tests.v1.test_openai_client import create_key

WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 24},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                      "parameters": WEATHER_PARAMETERS}},
    {"type": "function", "function": {"name": "get_time", "description": "Local time in a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 24}},
                    "required": ["city"]}}},
]  # fmt: skip
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


class City(BaseModel):
    name: Annotated[str, Field(max_length=20)]
    population: int
    capital: bool


@pytest.fixture()
def api(
    client: FlaskClient,
    auth_headers: dict[str, str],
    live_server: LiveServer,
    celery_worker: WorkerProcess,
) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{live_server.url}/v1", api_key=create_key(client, auth_headers), max_retries=0
    )


def parameters_of(name: str) -> dict[str, Any]:
    return next(t["function"]["parameters"] for t in TOOLS if t["function"]["name"] == name)


def assert_valid_calls(calls: Any) -> None:
    assert calls, "no tool calls"
    for call in calls:
        assert call.type == "function" and call.id.startswith("call_")
        jsonschema.validate(json.loads(call.function.arguments), parameters_of(call.function.name))


def test_json_object_reply_is_a_json_object(api: openai.OpenAI, settings: Settings) -> None:
    completion = api.chat.completions.create(
        model=settings.served_model_name,
        messages=[{"role": "user", "content": "Give a JSON object with one key."}],
        response_format={"type": "json_object"},
        max_tokens=120,
        temperature=0,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    assert isinstance(json.loads(choice.message.content or ""), dict)


def test_json_schema_strict_parses_into_the_model(api: openai.OpenAI, settings: Settings) -> None:
    completion = api.chat.completions.parse(
        model=settings.served_model_name,
        messages=[{"role": "user", "content": "Describe Paris."}],
        response_format=City,  # the client sends its strict JSON schema
        max_tokens=120,
        temperature=0,
    )
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "stop"
    assert isinstance(message.parsed, City)
    jsonschema.validate(json.loads(message.content or ""), City.model_json_schema())


def test_json_schema_streamed_reassembles_to_valid_json(
    api: openai.OpenAI, settings: Settings
) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["answer", "sure"],
              "properties": {"answer": {"type": "string", "maxLength": 30},
                             "sure": {"type": "boolean"}}}  # fmt: skip
    chunks = api.chat.completions.create(
        model=settings.served_model_name,
        messages=[{"role": "user", "content": "Is the sky blue?"}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "verdict", "schema": schema, "strict": True}},
        max_tokens=80,
        temperature=0,
        stream=True,
    )  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    jsonschema.validate(json.loads(text), schema)


def test_tool_round_trip(api: openai.OpenAI, settings: Settings, app: Flask) -> None:
    first = api.chat.completions.create(
        model=settings.served_model_name, messages=ASK, tools=TOOLS, tool_choice="required",
        parallel_tool_calls=False, max_tokens=80, temperature=0,
    )  # fmt: skip
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls
    assert_valid_calls(calls)
    assert calls is not None and len(calls) == 1
    call = calls[0]
    history: list[Any] = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 degrees"},
    ]
    final = api.chat.completions.create(
        model=settings.served_model_name, messages=history, tools=TOOLS, tool_choice="none",
        max_tokens=20, temperature=0,
    )  # fmt: skip
    answer = final.choices[0]
    assert answer.message.content and not answer.message.tool_calls
    with app.extensions["queuechat"].db.session() as db:
        item = db.get(BatchItem, int(final.id.removeprefix("chatcmpl-")))
        assert item is not None
        stored = item.request["messages"]
    assert stored[1]["tool_calls"][0]["id"] == call.id
    assert stored[2] == {"role": "tool", "content": "Sunny, 21 degrees",
                         "tool_call_id": call.id, "name": call.function.name}  # fmt: skip


def test_streamed_tool_calls_assemble_like_the_whole_reply(
    api: openai.OpenAI, settings: Settings
) -> None:
    params: dict[str, Any] = {
        "model": settings.served_model_name, "messages": ASK, "tools": TOOLS,
        "tool_choice": "required", "max_tokens": 120, "temperature": 0,
    }  # fmt: skip
    whole = api.chat.completions.create(**params).choices[0].message.tool_calls
    with api.chat.completions.stream(**params) as stream:
        deltas = [event for event in stream if event.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls
    assert final.choices[0].finish_reason == "tool_calls"
    assert_valid_calls(streamed)
    assert whole is not None and streamed is not None
    assert [(c.function.name, c.function.arguments) for c in streamed] == [
        (c.function.name, c.function.arguments) for c in whole
    ]
    assert len({c.id for c in streamed}) == len(streamed)
    assert len(deltas) > 1  # the arguments came in pieces


def test_named_tool_choice_forces_that_function(api: openai.OpenAI, settings: Settings) -> None:
    completion = api.chat.completions.create(
        model=settings.served_model_name, messages=ASK, tools=TOOLS, max_tokens=60,
        tool_choice={"type": "function", "function": {"name": "get_time"}}, temperature=0,
    )  # fmt: skip
    calls = completion.choices[0].message.tool_calls
    assert_valid_calls(calls)
    assert calls is not None and [c.function.name for c in calls] == ["get_time"]


def test_auto_tool_choice_is_a_valid_call_or_content(
    api: openai.OpenAI, settings: Settings
) -> None:
    completion = api.chat.completions.create(
        model=settings.served_model_name, messages=ASK, tools=TOOLS, max_tokens=40, temperature=0
    )
    message = completion.choices[0].message
    if message.tool_calls:
        assert_valid_calls(message.tool_calls)
    else:
        assert message.content and not message.content.startswith("{")


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"n": 2}, "n: only 1 is supported"),
        ({"logprobs": True}, "logprobs"),
        ({"extra_body": {"audio": {"voice": "alloy", "format": "wav"}}}, "audio"),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "schema": {
                            "type": "object",
                            "properties": {"code": {"type": "string", "pattern": "^[A-Z]+$"}},
                        },
                    },
                }
            },
            "response_format.json_schema.schema.properties.code.pattern",
        ),  # fmt: skip
    ],
)
def test_what_is_not_implemented_is_a_400_naming_it(
    api: openai.OpenAI, settings: Settings, extra: dict[str, Any], named: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=named.replace(".", r"\.")):
        api.chat.completions.create(
            model=settings.served_model_name, messages=ASK, max_tokens=5, **extra
        )
