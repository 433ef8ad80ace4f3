"""What one generation asks for (a batch line, an API completion): messages or a prompt,
an optional template, stop sequences and sampling, checked against the server's limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.config import Settings
from app.schemas.common import Input, Seed

MAX_STOP_SEQUENCES = 4


class ChatTurnIn(Input):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, StringConstraints(max_length=100_000)]


class GenerationRequest(Input):
    """What one item asks for: messages (or a bare prompt), an optional template, sampling."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatTurnIn] | None = Field(default=None, min_length=1, max_length=200)
    prompt: str | None = None
    template: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: Seed | None = None
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
        messages = (
            [turn.model_dump() for turn in self.messages]
            if self.messages is not None
            else [{"role": "user", "content": self.prompt or ""}]
        )
        return {"messages": messages, "template": self.template, **self.stored_sampling(settings)}

    def stored_sampling(self, settings: Settings) -> dict[str, Any]:
        """The stop list and complete sampling, checked against the server's limits."""
        if self.max_tokens is not None and self.max_tokens > settings.max_tokens_limit:
            raise ValueError(f"max_tokens is over the limit of {settings.max_tokens_limit}")
        if self.temperature is not None and self.temperature > settings.max_temperature:
            raise ValueError(f"temperature is over the limit of {settings.max_temperature}")
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return {
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
