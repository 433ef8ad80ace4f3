"""The per-process model handle: a llama.cpp model with its GGUF chat template and its engine."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.config import Settings, get_settings
from app.services.prompting import ChatMessage
from workers.inference.engine import Engine, EngineConfig
from workers.inference.sampling import Sampling

__all__ = ["ChatModel", "Sampling", "get_model", "load_model"]

logger = logging.getLogger(__name__)
# Stand-ins for message contents while the chat template renders (private-use code points, which
# tokenizers never treat as special): the text between them is the template's own.
CONTENT_MARK = "\ue000{}\ue001"
TOKENIZED_CACHE = 4096  # contents whose tokens are kept
CONTENT_MARKS = re.compile("\ue000(\\d+)\ue001")


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
        """A rendered prompt as create_completion tokenizes it, special tokens and all.

        For a prompt made of trusted text only (benchmarks, the peer comparison); a prompt that
        holds anyone's text goes through ``encode``.
        """
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def tokenize_text(self, text: str) -> list[int]:
        """Text as text: "<|im_start|>" typed by someone is seven ordinary tokens, no role turn."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def encode(self, messages: list[ChatMessage]) -> tuple[list[int], list[str]]:
        """Tokens and stops: the template's skeleton (the text between the markers rendered in
        place of each content) with special tokens, every content as plain text, so no user,
        example, history or document chunk can forge a turn. The last list is remembered."""
        key = tuple((m["role"], m["content"]) for m in messages)
        if self._last_encoded is not None and self._last_encoded[0] == key:
            return self._last_encoded[1], self._last_encoded[2]
        marked = [{**m, "content": CONTENT_MARK.format(i)} for i, m in enumerate(messages)]
        skeleton, stop = self.format(marked)
        tokens: list[int] = []
        position = 0
        for match in CONTENT_MARKS.finditer(skeleton):
            tokens += self.tokenize(skeleton[position : match.start()])
            tokens += self._content_tokens(messages[int(match.group(1))]["content"])
            position = match.end()
        tokens += self.tokenize(skeleton[position:])
        self._last_encoded = (key, tokens, stop)
        return tokens, stop

    def _content_tokens(self, content: str) -> list[int]:
        """Each turn is tokenized once while a prompt is fitted (and for the chat's next turn)."""
        found = self._tokenized.get(content)
        if found is None:
            if len(self._tokenized) >= TOKENIZED_CACHE:
                self._tokenized.clear()
            found = self._tokenized[content] = self.tokenize_text(content)
        return found

    def fits(self, messages: list[ChatMessage], reply_tokens: int) -> bool:
        return len(self.encode(messages)[0]) + reply_tokens <= self.n_ctx

    _tokenized: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)
    _last_encoded: tuple[tuple[tuple[str, str], ...], list[int], list[str]] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("this model was loaded without an engine")
        return self._engine

    _engine: Engine | None = None


# A reader of the model's vocabulary and template needs no room in its own context: replies
# run in the engine's.
TOKENIZER_CTX = 256


def load_model(settings: Settings, *, with_engine: bool = True) -> ChatModel:
    logger.info("loading model %s (threads=%d)", settings.model_path, settings.n_threads)
    llm = Llama(
        model_path=str(settings.model_path),
        n_ctx=TOKENIZER_CTX,
        n_threads=settings.n_threads,
        n_threads_batch=settings.n_threads,
        n_batch=TOKENIZER_CTX,
        n_gpu_layers=settings.n_gpu_layers,
        verbose=False,
    )
    engine = None
    if with_engine:
        engine = Engine(
            llm.model,
            EngineConfig(
                n_parallel=settings.engine_places,
                n_ctx_seq=settings.n_ctx,
                n_batch=settings.n_batch,
                n_threads=settings.n_threads,
                prefill_chunk=settings.prefill_chunk_tokens,
                host_cache_bytes=settings.kv_host_cache_mb * 2**20,
            ),
        )
    return ChatModel(llm=llm, n_ctx=settings.n_ctx, name=settings.served_model_name, _engine=engine)


@lru_cache(maxsize=1)
def get_model() -> ChatModel:
    """The process's one model, loaded on first use."""
    return load_model(get_settings())
