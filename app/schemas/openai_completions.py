"""The body of /v1/completions (also a Batch API line's body): a raw text prompt, continued."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, model_validator

from app.config import Settings
from app.errors import UnsupportedParameter
from app.schemas.common import Seed
from app.schemas.generation import MAX_STOP_SEQUENCES, GenerationRequest
from app.schemas.openai import StreamOptions
from app.schemas.openai_params import OpenAIBody

MAX_PROMPT_CHARS = 100_000
OPENAI_DEFAULT_MAX_TOKENS = 16  # what OpenAI's /v1/completions generates when not told
PromptText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT_CHARS)]


class CompletionBody(OpenAIBody):
    """Prompt in, text out; one choice, no log probabilities, no penalties."""

    UNSUPPORTED: ClassVar[dict[str, tuple[Any, ...]]] = {
        "n": (1,),
        "best_of": (1,),
        "echo": (False,),
        "logprobs": (),
        "logit_bias": ({},),
        "suffix": ("",),
        "presence_penalty": (0,),
        "frequency_penalty": (0,),
    }

    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    prompt: PromptText | Annotated[list[PromptText], Field(min_length=1, max_length=1)] = Field(
        description="a text (or a list holding one text), continued as it is"
    )
    max_tokens: int | None = Field(default=OPENAI_DEFAULT_MAX_TOKENS, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: Seed | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(
        default=None, max_length=256, description="accepted for compatibility; not used"
    )

    @classmethod
    def refuse_forms(cls, data: dict[str, Any], where: str) -> None:
        prompt = data.get("prompt")
        if isinstance(prompt, list) and any(not isinstance(part, str) for part in prompt):
            raise UnsupportedParameter(
                f"{where}prompt as token ids is not supported by this server: send text",
                param=f"{where}prompt",
            )
        if isinstance(prompt, list) and len(prompt) > 1:
            raise UnsupportedParameter(
                f"{where}prompt: one prompt per request (a list of several asks for several "
                "choices, which this server does not generate)",
                param=f"{where}prompt",
            )

    @model_validator(mode="after")
    def _few_stops(self) -> CompletionBody:
        if isinstance(self.stop, list) and len(self.stop) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return self

    @property
    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def stored(self, settings: Settings) -> dict[str, Any]:
        """The item's request as workers read it: the prompt as raw text (``raw_prompt``), no
        chat template around it."""
        sampling = GenerationRequest.model_validate(
            {
                "prompt": self.text,
                "max_tokens": self.max_tokens or OPENAI_DEFAULT_MAX_TOKENS,
                "temperature": self.temperature,
                "top_p": self.top_p,
                "seed": self.seed,
                "stop": self.stop,
            }
        ).stored_sampling(settings)
        return {"raw_prompt": self.text, "messages": [], "template": None, **sampling}
