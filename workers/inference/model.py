"""The per-process model handle: a llama.cpp model with its GGUF chat template and its engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from llama_cpp import Llama

from app.config import Settings, get_settings
from app.services.chat_tokens import ChatTokenizer
from workers.inference.engine import Engine, EngineConfig
from workers.inference.sampling import Sampling

__all__ = ["ChatModel", "Sampling", "get_model", "load_model"]

logger = logging.getLogger(__name__)


@dataclass
class ChatModel(ChatTokenizer):
    """A loaded model: its tokenizer and template (app/services/chat_tokens.py) and its engine."""

    name: str = field(kw_only=True)
    _engine: Engine | None = field(default=None, kw_only=True)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("this model was loaded without an engine")
        return self._engine


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
                reserve=settings.reserve_places,
            ),
        )
    return ChatModel(llm=llm, n_ctx=settings.n_ctx, name=settings.served_model_name, _engine=engine)


@lru_cache(maxsize=1)
def get_model() -> ChatModel:
    """The process's one model, loaded on first use."""
    return load_model(get_settings())
