"""Request bodies of the OpenAI-compatible API.

Chat completions refuse what they do not implement: a parameter this server does not know is
an ``extra_forbidden`` error, one it knows only at its neutral value (``n`` = 1, ``logprobs`` =
false, ...) an ``unsupported_parameter`` error; the service turns both into a 400 naming it.
A null is the parameter left out, as OpenAI reads it. Embeddings still ignore unknown fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from app.schemas.common import Input, Seed
from app.schemas.generation import MAX_STOP_SEQUENCES, GenerationRequest

MAX_CONTENT_CHARS = 100_000
MAX_TOOLS = 64
UNSUPPORTED = "unsupported_parameter"
# parameters this server takes only at the value that changes nothing
NEUTRAL: dict[str, Any] = {
    "n": 1,
    "logprobs": False,
    "top_logprobs": 0,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "logit_bias": {},
    "store": False,
    "metadata": {},
}
ROLES = ("system", "developer", "user", "assistant", "tool")
FunctionName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
CallId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def unsupported(message: str) -> PydanticCustomError:
    return PydanticCustomError(UNSUPPORTED, message)


class Lenient(Input):
    model_config = ConfigDict(extra="ignore")


class Strict(Input):
    """An OpenAI body part whose unknown fields are refused; nulls count as left out."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class ContentPart(Strict):
    model_config = ConfigDict(extra="allow")  # other part types are refused by name below

    type: str
    text: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)] | None = None

    @model_validator(mode="after")
    def _text_only(self) -> ContentPart:
        if self.type != "text":
            raise unsupported(f"content parts of type {self.type!r} are not supported (text only)")
        if self.text is None:
            raise ValueError("a text part needs 'text'")
        return self


class CalledFunction(Strict):
    name: FunctionName
    arguments: Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)]


class ToolCallIn(Strict):
    id: CallId
    type: Literal["function"] = "function"
    function: CalledFunction


class ApiMessage(Strict):
    role: str
    content: list[ContentPart] | None = None
    tool_calls: list[ToolCallIn] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_call_id: CallId | None = None

    @model_validator(mode="before")
    @classmethod
    def _parts(cls, data: Any) -> Any:
        """A string content is one text part."""
        if isinstance(data, dict) and isinstance(data.get("content"), str):
            return {**data, "content": [{"type": "text", "text": data["content"]}]}
        return data

    @model_validator(mode="after")
    def _fits_role(self) -> ApiMessage:
        if self.role not in ROLES:
            raise unsupported(f"messages of role {self.role!r} are not supported")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        if (self.tool_call_id is None) != (self.role != "tool"):
            raise ValueError("a tool message (and only a tool message) has a tool_call_id")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs content")
        return self

    @property
    def text(self) -> str:
        return "".join(part.text or "" for part in self.content or [])

    def as_turn(self) -> dict[str, str]:
        return {"role": "system" if self.role == "developer" else self.role, "content": self.text}


class FunctionIn(Strict):
    name: FunctionName
    description: Annotated[str, StringConstraints(max_length=4096)] = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    strict: bool = False


class ToolIn(Strict):
    type: str
    function: FunctionIn

    @model_validator(mode="after")
    def _functions_only(self) -> ToolIn:
        if self.type != "function":
            raise unsupported(f"tools of type {self.type!r} are not supported (function only)")
        return self


class StreamOptions(Strict):
    include_usage: bool = False


class ChatCompletionBody(Strict):
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    messages: list[ApiMessage] = Field(min_length=1, max_length=200)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: Seed | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: dict[str, Any] | None = None
    tools: list[ToolIn] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    user: Annotated[str, StringConstraints(max_length=256)] | None = None  # an end-user label

    @model_validator(mode="before")
    @classmethod
    def _neutral_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, neutral in NEUTRAL.items():
            if name in data and data[name] is not None and data[name] != neutral:
                raise unsupported(f"{name}: only {neutral!r} is supported (got {data[name]!r})")
        return {key: value for key, value in data.items() if key not in NEUTRAL}

    @model_validator(mode="after")
    def _few_stops(self) -> ChatCompletionBody:
        if isinstance(self.stop, list) and len(self.stop) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return self

    def generation_request(self) -> GenerationRequest:
        """The sampling and stops as a batch line would give them (the messages apart)."""
        return GenerationRequest.model_validate(
            {
                "prompt": "",
                "max_tokens": self.max_completion_tokens or self.max_tokens,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "seed": self.seed,
                "stop": self.stop,
            }
        )


class EmbeddingsBody(Lenient):
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    input: str | list[str] = Field(description="a text or a list of texts")
    encoding_format: Literal["float", "base64"] = "float"

    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
