"""Retrieval loads the embedder (torch and a model: seconds) only when there is something to
search; a chat with neither files nor the knowledge base starts its reply at once."""

from __future__ import annotations

from app.config import Settings
from workers.context import build_context
from workers.ingest.embedder import Embedder
from workers.retrieval import retrieve
from workers.vectors import VectorStore


def test_a_chat_without_files_or_knowledge_base_does_not_load_the_embedder(
    settings: Settings,
) -> None:
    ctx = build_context(settings)
    loads: list[str] = []

    def embedder() -> Embedder:
        loads.append("loaded")
        raise RuntimeError("the embedder was loaded")

    def vectors(files: bool) -> VectorStore:
        raise AssertionError(f"a collection was opened (files={files})")

    try:
        assert retrieve(ctx, embedder, "What is in it?", 1, False, vectors) == []
        assert loads == []
    finally:
        ctx.db.dispose()
