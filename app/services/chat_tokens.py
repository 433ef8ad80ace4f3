"""A model's chat template and vocabulary, shared by the workers (which generate) and the web
process (which checks that a message fits the context before it is queued). llama.cpp is
imported only where a tokenizer is loaded: a web image without it checks nothing here and the
worker still refuses a prompt that does not fit."""

from __future__ import annotations

import atexit
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.services.prompting import ChatMessage
from app.services.tool_calls import JSON_LINES, template_tool_format

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

logger = logging.getLogger(__name__)

# Stand-ins for message contents while the chat template renders (private-use code points, which
# tokenizers never treat as special): the text between them is the template's own.
CONTENT_MARK = "\ue000{}\ue001"
TOKENIZED_CACHE = 4096  # contents whose tokens are kept
CONTENT_MARKS = re.compile("\ue000(\\d+)\ue001")
_rendering = threading.local()  # the texts a render in this thread stands in for, by mark


def marking_tojson(
    x: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """The template's ``tojson``: data it writes as JSON (the tools a request lists; a content
    some templates write as a JSON string) is a text for ``encode`` to tokenize as text, a mark
    in the skeleton, like message contents (marks in the data stand for their texts)."""
    texts: list[str] | None = getattr(_rendering, "texts", None)
    value = x if texts is None else unmarked(x, texts)
    text = json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )
    if texts is None:
        return text
    texts.append(text)
    return CONTENT_MARK.format(len(texts) - 1)


@lru_cache(maxsize=1)
def marking_formatter() -> type[Jinja2ChatFormatter]:
    """llama-cpp-python's Jinja2 chat formatter with ``marking_tojson`` as its ``tojson`` (the
    static method it installs as the template's filter)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    class MarkingFormatter(Jinja2ChatFormatter):
        tojson = staticmethod(marking_tojson)

    return MarkingFormatter


def unmarked(value: Any, texts: list[str]) -> Any:
    if isinstance(value, str):
        return CONTENT_MARKS.sub(lambda match: texts[int(match.group(1))], value)
    if isinstance(value, dict):
        return {key: unmarked(item, texts) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unmarked(item, texts) for item in value]
    return value


@dataclass
class ChatTokenizer:
    """A model's vocabulary and the chat template stored in its GGUF: a prompt in tokens.

    Workers hold the whole model (workers/inference/model.py: ChatModel); the web process reads
    the vocabulary only, to tell a message that cannot fit before it is queued.
    """

    llm: Llama
    n_ctx: int
    formatter: Jinja2ChatFormatter = field(init=False)

    def __post_init__(self) -> None:
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise RuntimeError("the GGUF model has no chat template")
        self.formatter = marking_formatter()(
            template=template,
            eos_token=self._special_text(self.llm.token_eos()),
            bos_token=self._special_text(self.llm.token_bos()),
        )
        self.tool_format = template_tool_format(template)

    def _special_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def format(
        self, messages: list[ChatMessage], tools: list[dict[str, Any]] | None = None
    ) -> tuple[str, list[str]]:
        listed = [{"type": "function", "function": tool} for tool in tools] if tools else None
        response = self.formatter(messages=messages, tools=listed)  # type: ignore[arg-type]
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

    def encode_raw(self, text: str) -> list[int]:
        """A /v1/completions prompt: continued as it is, no chat template, and as text (special
        tokens typed in it are ordinary text); BOS first where the model's vocabulary wants it,
        as create_completion does."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def encode(
        self, messages: list[ChatMessage], tools: list[dict[str, Any]] | None = None
    ) -> tuple[list[int], list[str]]:
        """Tokens and stops: the template's skeleton (the text between the markers rendered in
        place of each content) with special tokens, every content as plain text, so no user,
        example, history or document chunk can forge a turn; ``tools`` (for a template with
        its own tool format) are listed by the template, as text too. The last list is
        remembered."""
        key = (tuple((m["role"], m["content"]) for m in messages), json.dumps(tools))
        if self._last_encoded is not None and self._last_encoded[0] == key:
            return self._last_encoded[1], self._last_encoded[2]
        marked = [{**m, "content": CONTENT_MARK.format(i)} for i, m in enumerate(messages)]
        texts = [m["content"] for m in messages]
        _rendering.texts = texts
        try:
            skeleton, stop = self.format(marked, tools)
        finally:
            _rendering.texts = None
        tokens: list[int] = []
        position = 0
        for match in CONTENT_MARKS.finditer(skeleton):
            tokens += self.tokenize(skeleton[position : match.start()])
            tokens += self._content_tokens(texts[int(match.group(1))])
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
    _last_encoded: tuple[tuple[Any, str], list[int], list[str]] | None = None
    tool_format: str = field(default=JSON_LINES.name, init=False)


def model_tool_format(settings: Settings, model: str | None) -> str:
    """The tool format of a model's chat template, as this process reads it (JSON lines where
    it has no tokenizer: the worker then writes calls the way the request says)."""
    reader = vocabulary_reader(*settings.model_file(model))
    return JSON_LINES.name if reader is None else reader.tool_format


@lru_cache(maxsize=4)
def vocabulary_reader(model_path: Path, n_ctx: int) -> ChatTokenizer | None:
    """The model's vocabulary and template without its weights (a fraction of a second, a few
    MB), once per process; None where llama.cpp is not installed or the model is not here."""
    try:
        from llama_cpp import Llama
    except ImportError:
        logger.info("llama.cpp is not installed here: messages are fitted by the workers only")
        return None
    if not model_path.is_file():
        logger.warning("no model at %s: messages are fitted by the workers only", model_path)
        return None
    llm = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    atexit.register(llm.close)  # freed while llama.cpp's bindings are still there
    return ChatTokenizer(llm=llm, n_ctx=n_ctx)
