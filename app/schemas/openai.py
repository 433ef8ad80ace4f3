"""Request bodies of the OpenAI-compatible API (unknown fields are ignored, as OpenAI does)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.schemas.common import Input, Seed
from app.schemas.generation import MAX_STOP_SEQUENCES, GenerationRequest


class Lenient(Input):
    model_config = ConfigDict(extra="ignore")


class TextPart(Lenient):
    type: Literal["text"]
    text: str


class ApiMessage(Lenient):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def as_turn(self) -> dict[str, str]:
        text = (
            self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        )
        return {"role": "system" if self.role == "developer" else self.role, "content": text}


class StreamOptions(Lenient):
    include_usage: bool = False


class ChatCompletionBody(Lenient):
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    messages: list[ApiMessage] = Field(min_length=1, max_length=200)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: Seed | None = None
    n: int = Field(default=1, ge=1, le=1, description="only 1 is supported")
    stream: bool = False
    stream_options: StreamOptions | None = None

    @model_validator(mode="after")
    def _few_stops(self) -> ChatCompletionBody:
        if isinstance(self.stop, list) and len(self.stop) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return self

    def generation_request(self) -> GenerationRequest:
        """The same request as a batch line would make it."""
        return GenerationRequest.model_validate(
            {
                "messages": [m.as_turn() for m in self.messages],
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
