"""The per-process model handle: a llama.cpp model with its GGUF chat template."""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from llama_cpp import Llama, LogitsProcessorList
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.config import Settings, get_settings
from app.prompting import ChatMessage

logger = logging.getLogger(__name__)


@dataclass
class Sampling:
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None = None


@dataclass
class ChatModel:
    """A loaded model that formats chat messages with the template stored in the GGUF."""

    llm: Llama
    n_ctx: int
    name: str
    formatter: Jinja2ChatFormatter = field(init=False)

    def __post_init__(self) -> None:
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise RuntimeError("the GGUF model has no chat template")
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._special_text(self.llm.token_eos()),
            bos_token=self._special_text(self.llm.token_bos()),
        )

    def _special_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def format(self, messages: list[ChatMessage]) -> tuple[str, list[str]]:
        response = self.formatter(messages=messages)  # type: ignore[arg-type]
        stop = response.stop if isinstance(response.stop, list) else [response.stop or ""]
        return response.prompt, [s for s in stop if s]

    def tokenize(self, prompt: str) -> list[int]:
        """Tokens exactly as create_completion would make them from the prompt text.

        The last prompt is remembered: the one that passed ``fits`` is tokenized once.
        """
        if self._last_prompt is not None and self._last_prompt[0] == prompt:
            return self._last_prompt[1]
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        self._last_prompt = (prompt, tokens)
        return tokens

    def fits(self, messages: list[ChatMessage], reply_tokens: int) -> bool:
        return len(self.tokenize(self.format(messages)[0])) + reply_tokens <= self.n_ctx

    def stream(
        self, prompt: list[int], stop: list[str], sampling: Sampling
    ) -> Generator[str, None, None]:
        """Yields text pieces; ``generated_tokens`` counts every sampled token exactly."""
        self.generated_tokens = 0

        def count_token(_ids: Any, logits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            self.generated_tokens += 1
            return logits

        chunks = self.llm.create_completion(
            prompt,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            stop=stop,
            stream=True,
            logits_processor=LogitsProcessorList([count_token]),
        )
        for chunk in chunks:
            yield chunk["choices"][0]["text"]  # type: ignore[index]

    generated_tokens: int = 0
    _last_prompt: tuple[str, list[int]] | None = None


def load_model(settings: Settings) -> ChatModel:
    logger.info("loading model %s (threads=%d)", settings.model_path, settings.n_threads)
    llm = Llama(
        model_path=str(settings.model_path),
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_threads_batch=settings.n_threads,
        n_batch=settings.n_batch,
        n_gpu_layers=settings.n_gpu_layers,
        verbose=False,
    )
    return ChatModel(llm=llm, n_ctx=settings.n_ctx, name=settings.served_model_name)


@lru_cache(maxsize=1)
def get_model() -> ChatModel:
    """The process's one model, loaded on first use."""
    return load_model(get_settings())
