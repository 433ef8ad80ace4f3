"""Knowledge-base retrieval: embed the question, take the best chunks of ready documents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.enums import DocumentStatus
from app.models import RagDocument
from app.services.prompting import ContextChunk
from workers.context import WorkerContext
from workers.ingest.embedder import Embedder
from workers.vectors import Hit, VectorStore

SNIPPET_CHARS = 300


def retrieve(ctx: WorkerContext, embedder: Embedder, store: VectorStore, query: str) -> list[Hit]:
    """Top-k relevant chunks (``relevant``), from documents that exist and are ready."""
    settings = ctx.settings
    hits = store.query(embedder.encode([query])[0], settings.retrieval_top_k + 5)
    hits = relevant(hits, settings.retrieval_min_score, settings.retrieval_max_gap)
    if not hits:
        return []
    with ctx.db.session() as session:
        ready = set(
            session.scalars(
                select(RagDocument.id).where(
                    RagDocument.id.in_({hit.chunk.document_id for hit in hits}),
                    RagDocument.status == DocumentStatus.READY,
                )
            )
        )
    return [hit for hit in hits if hit.chunk.document_id in ready][: settings.retrieval_top_k]


def relevant(hits: list[Hit], min_score: float, max_gap: float) -> list[Hit]:
    """Hits that score at least ``min_score`` and at most ``max_gap`` below the best one: what
    answers the question, not what merely shares its topic."""
    best = max((hit.score for hit in hits), default=0.0)
    floor = max(min_score, best - max_gap)
    return [hit for hit in hits if hit.score >= floor]


def as_context(hits: list[Hit]) -> list[ContextChunk]:
    return [
        ContextChunk(
            title=h.chunk.title, text=h.chunk.text, page=h.chunk.page, heading=h.chunk.heading
        )
        for h in hits
    ]


def as_citations(hits: list[Hit]) -> list[dict[str, Any]]:
    return [
        {
            "document_id": h.chunk.document_id,
            "title": h.chunk.title,
            "page": h.chunk.page,
            "heading": h.chunk.heading,
            "chunk_index": h.chunk.index,
            "snippet": h.chunk.text[:SNIPPET_CHARS],
            "score": round(h.score, 4),
        }
        for h in hits
    ]
