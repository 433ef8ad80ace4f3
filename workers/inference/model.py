"""The per-process model handle: a llama.cpp model with its GGUF chat template."""

from __future__ import annotations

import codecs
import ctypes
import logging
import random
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.config import Settings, get_settings
from app.services.prompting import ChatMessage
from workers.inference.stops import first_stop, stop_prefix_length

logger = logging.getLogger(__name__)
# Stand-ins for message contents while the chat template renders (private-use code points, which
# tokenizers never treat as special): the text between them is the template's own.
CONTENT_MARK = "\ue000{}\ue001"
TOKENIZED_CACHE = 4096  # contents whose tokens are kept
CONTENT_MARKS = re.compile("\ue000(\\d+)\ue001")


@dataclass
class Sampling:
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], defaults: Sampling | None = None) -> Sampling:
        """The sampling stored with a row as JSON; knobs it lacks come from ``defaults``."""
        merged = {**(asdict(defaults) if defaults else {}), **params}
        return cls(
            max_tokens=int(merged["max_tokens"]),
            temperature=float(merged["temperature"]),
            top_p=float(merged["top_p"]),
            seed=merged.get("seed"),
        )


@dataclass
class SavedKV:
    """A lane's KV cache (sequence 0) in host memory, with the tokens it holds."""

    tokens: list[int]
    data: ctypes.Array[ctypes.c_uint8]
    size: int


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

    def use_lane(self, lane: str, prompt: list[int]) -> None:
        """Chat and batch work take turns on one context; each lane keeps its evaluated prefix.

        Switching lanes saves the KV cache of the lane that leaves (host memory, the size of
        its evaluated tokens) and brings back the saved one of the lane that returns when it
        shares more of the new prompt than the context holds. So a chat reply that follows a
        batch item does not evaluate the whole system prompt again. One context, not two:
        a second context would load the weights twice on a GPU.
        """
        if lane == self._lane:
            return
        llm = self.llm
        if self._lane is not None and llm.n_tokens > 0:
            self._saved[self._lane] = self._save_kv()
        self._lane = lane
        saved = self._saved.pop(lane, None)
        if saved is not None and common_prefix(saved.tokens, prompt) > common_prefix(
            self._evaluated(), prompt
        ):
            self._load_kv(saved)

    def prefill(self, prompt: list[int], interrupted: Callable[[], bool], chunk: int) -> bool:
        """Evaluates the prompt (but its last token) in chunks, asking between them whether
        to give up; False when it did. What was evaluated stays cached for the next try."""
        llm = self.llm
        cached = min(common_prefix(self._evaluated(), prompt), len(prompt) - 1)
        llm.n_tokens = max(cached, 0)  # eval() drops the KV cells past n_tokens
        for start in range(llm.n_tokens, len(prompt) - 1, chunk):
            if interrupted():
                return False
            llm.eval(prompt[start : min(start + chunk, len(prompt) - 1)])
        return True

    def _save_kv(self) -> SavedKV:
        ctx = self.llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        data = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, data, size, 0)
        return SavedKV(self._evaluated(), data, written)

    def _evaluated(self) -> list[int]:
        """The tokens whose KV cells the context holds."""
        return list(self.llm.input_ids[: self.llm.n_tokens].tolist())

    def _load_kv(self, saved: SavedKV) -> None:
        llm = self.llm
        llm.n_tokens = 0
        mem = llama_cpp.llama_get_memory(llm.ctx)
        llama_cpp.llama_memory_seq_rm(mem, 0, -1, -1)
        if llama_cpp.llama_state_seq_set_data(llm.ctx, saved.data, saved.size, 0) == 0:
            logger.warning("could not restore a saved KV cache; evaluating the prompt anew")
            llama_cpp.llama_memory_seq_rm(mem, 0, -1, -1)
            return
        llm.input_ids[: len(saved.tokens)] = saved.tokens
        llm.n_tokens = len(saved.tokens)
        # The logits in the context are the other lane's: generate() must decode again before
        # it samples, even for a prompt that is exactly the restored tokens.
        llm._requires_eval = True

    def stream(
        self, prompt: list[int], stop: list[str], sampling: Sampling
    ) -> Generator[str, None, None]:
        """Yields text pieces as the model samples tokens.

        The sampler is create_completion's (same defaults, same seeding), but the text is
        decoded incrementally: create_completion detokenizes the whole completion again for
        every token, a cost that grows with the reply. UTF-8 sequences split across tokens are
        held until complete, and text that may begin a stop string is held until it is known
        not to. ``generated_tokens`` counts the sampled tokens (end-of-generation excluded, as
        in llama-cpp-python's usage) and ``finish_reason`` is "stop" or "length".
        """
        llm = self.llm
        self.generated_tokens = 0
        self.finish_reason = "length"
        llm.set_seed(
            sampling.seed
            if sampling.seed is not None
            else random.Random(llm._seed).randint(0, 2**32)  # create_completion seeds so
        )
        budget = min(sampling.max_tokens, self.n_ctx - len(prompt))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llm._model.vocab
        held = ""
        tokens = llm.generate(
            prompt,
            top_k=40,
            top_p=sampling.top_p,
            min_p=0.05,
            typical_p=1.0,
            temp=sampling.temperature,
            repeat_penalty=1.0,
        )
        try:
            for token in tokens:
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    self.finish_reason = "stop"
                    break
                self.generated_tokens += 1
                held += decoder.decode(self._piece(token))
                cut = first_stop(held, stop)
                if cut is not None:
                    held = held[:cut]
                    self.finish_reason = "stop"
                    break
                keep = stop_prefix_length(held, stop)
                if len(held) > keep:
                    yield held[: len(held) - keep]
                    held = held[len(held) - keep :]
                if self.generated_tokens >= budget:
                    break  # before generate() evaluates a token nobody asked for
        finally:
            tokens.close()
        held += decoder.decode(b"", final=True)
        if held:
            yield held

    def _piece(self, token: int) -> bytes:
        size = len(self._piece_buffer)
        n = llama_cpp.llama_token_to_piece(
            self.llm._model.vocab,
            token,
            self._piece_buffer,
            size,
            0,
            False,
        )
        if n < 0:  # a longer piece than the buffer: grow it and ask again
            self._piece_buffer = ctypes.create_string_buffer(-n)
            return self._piece(token)
        return self._piece_buffer.raw[:n]

    generated_tokens: int = 0
    finish_reason: str = "length"
    _lane: str | None = None
    _saved: dict[str, SavedKV] = field(default_factory=dict)
    _tokenized: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)
    _last_encoded: tuple[tuple[tuple[str, str], ...], list[int], list[str]] | None = None
    _piece_buffer: ctypes.Array[ctypes.c_char] = field(
        default_factory=lambda: ctypes.create_string_buffer(64)
    )


def common_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two sequences share (llama-cpp-python's own helper)."""
    return int(Llama.longest_token_prefix(a, b))


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
