"""Retrieval: embed the question, take the best chunks of the chat's files and (when the chat
uses it) of the knowledge base, from documents that exist and are ready."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.enums import DocumentStatus
from app.models import RagDocument
from app.services.prompting import ContextChunk
from workers.context import WorkerContext
from workers.ingest.embedder import Embedder
from workers.vectors import Hit, VectorStore, get_vector_store

SNIPPET_CHARS = 300


def retrieve(
    ctx: WorkerContext,
    embedder: Callable[[], Embedder],
    query: str,
    session_id: int,
    knowledge_base: bool,
    vectors: Callable[[bool], VectorStore] = get_vector_store,
) -> list[Hit]:
    """The knowledge base's relevant chunks (``relevant``), and the best chunks of the chat's
    own files whatever their score (the user attached them to ask about them), best first.

    Each hit is checked against the database: a knowledge-base chunk's document is not a chat's
    file, a file's chunk is of this chat (the collection's filter says so too), and both are
    ready (a document deleted or being re-read is left out). ``embedder`` is called only when
    there is something to search: loading it takes seconds, and most chats need none."""
    settings = ctx.settings
    top_k = settings.retrieval_top_k
    with ctx.db.session() as session:
        has_files = session.scalar(select(has_ready_files(session_id)))
    if not knowledge_base and not has_files:
        return []
    vector = embedder().encode([query])[0]
    hits: list[Hit] = []
    if knowledge_base:
        found = vectors(False).query(vector, top_k + 5)
        hits += relevant(found, settings.retrieval_min_score, settings.retrieval_max_gap)
    if has_files:
        hits += vectors(True).query(vector, top_k + 5, session_id=session_id)
    if not hits:
        return []
    with ctx.db.session() as session:
        rows = session.execute(
            select(RagDocument.id, RagDocument.session_id).where(
                RagDocument.id.in_({hit.chunk.document_id for hit in hits}),
                RagDocument.status == DocumentStatus.READY,
            )
        )
        ready: dict[int, int | None] = {int(i): chat for i, chat in rows}
    kept = [
        hit
        for hit in hits
        if hit.chunk.document_id in ready
        and ready[hit.chunk.document_id] == hit.chunk.session_id
        and hit.chunk.session_id in (None, session_id)
    ]
    files = [hit for hit in kept if hit.chunk.session_id is not None][:top_k]
    shared = [hit for hit in kept if hit.chunk.session_id is None][:top_k]
    return sorted(files + shared, key=lambda hit: hit.score, reverse=True)


def has_ready_files(session_id: int) -> Any:
    return (
        select(RagDocument.id)
        .where(RagDocument.session_id == session_id, RagDocument.status == DocumentStatus.READY)
        .exists()
    )


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
            "source": "knowledge_base" if h.chunk.session_id is None else "chat_file",
            "title": h.chunk.title,
            "page": h.chunk.page,
            "heading": h.chunk.heading,
            "chunk_index": h.chunk.index,
            "snippet": h.chunk.text[:SNIPPET_CHARS],
            "score": round(h.score, 4),
        }
        for h in hits
    ]
