"""The Chroma collections of chunks, written by ingest and queried by inference: the knowledge
base's, and the files attached in chats (each chunk names its chat; queried by chat)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from app.config import Settings, get_settings


@dataclass(frozen=True)
class Chunk:
    document_id: int
    index: int
    text: str
    title: str
    page: int | None = None
    heading: str | None = None
    session_id: int | None = None  # a chat's file: its chat

    @property
    def id(self) -> str:
        """Deterministic: a retried job overwrites, never duplicates."""
        return f"doc{self.document_id}-{self.index}"

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "document_id": self.document_id,
            "chunk_index": self.index,
            "title": self.title,
        }
        if self.page is not None:
            meta["page"] = self.page
        if self.heading:
            meta["heading"] = self.heading
        if self.session_id is not None:
            meta["session_id"] = self.session_id
        return meta


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


class VectorStore:
    def __init__(self, settings: Settings, *, files: bool = False) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        parts = urlsplit(settings.chroma_url)
        self.client = chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
        self.collection = self.client.get_or_create_collection(
            settings.chroma_collection + ("-files" if files else ""),
            embedding_function=None,
            # cosine on unit vectors; a wider search beam than Chroma's default (ef 100 vs 10)
            # keeps the approximate index's recall at the brute-force level for top-5
            configuration={"hnsw": {"space": "cosine", "ef_search": 100, "ef_construction": 200}},
        )

    def upsert(self, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        if chunks:
            self.collection.upsert(
                ids=[c.id for c in chunks],
                embeddings=vectors,  # type: ignore[arg-type]
                documents=[c.text for c in chunks],
                metadatas=[c.metadata() for c in chunks],
            )

    def delete_document(self, document_id: int, *, from_index: int = 0) -> None:
        where: dict[str, Any] = {"document_id": document_id}
        if from_index:
            where = {"$and": [where, {"chunk_index": {"$gte": from_index}}]}
        self.collection.delete(where=where)

    def count(self, document_id: int) -> int:
        found = self.collection.get(where={"document_id": document_id}, include=[])
        return len(found["ids"])

    def query(self, vector: list[float], top_k: int, session_id: int | None = None) -> list[Hit]:
        """The nearest chunks; ``session_id``: of that chat's files only."""
        result = self.collection.query(
            query_embeddings=[vector],  # type: ignore[arg-type]
            n_results=top_k,
            where={"session_id": session_id} if session_id is not None else None,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        for text, meta, distance in zip(documents, metadatas, distances, strict=True):
            chunk = Chunk(
                document_id=int(meta["document_id"]),  # type: ignore[arg-type]
                index=int(meta["chunk_index"]),  # type: ignore[arg-type]
                text=text,
                title=str(meta.get("title", "")),
                page=int(meta["page"]) if "page" in meta else None,  # type: ignore[arg-type]
                heading=str(meta["heading"]) if "heading" in meta else None,
                session_id=int(meta["session_id"]) if "session_id" in meta else None,  # type: ignore[arg-type]
            )
            hits.append(Hit(chunk, 1.0 - float(distance)))
        return hits


@lru_cache(maxsize=2)
def get_vector_store(files: bool = False) -> VectorStore:
    """The knowledge base's collection, or (``files``) the chats' files'."""
    return VectorStore(get_settings(), files=files)
