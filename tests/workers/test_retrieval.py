"""Retrieval loads the embedder (torch and a model: seconds) only when there is something to
search; a chat with neither files nor the knowledge base starts its reply at once."""

from __future__ import annotations

import uuid

import pytest

from app.config import Settings
from app.enums import DocumentStatus
from app.models import ChatSession, RagDocument, User
from workers.context import WorkerContext, build_context
from workers.ingest.embedder import Embedder
from workers.retrieval import retrieve
from workers.vectors import VectorStore


class EmbedderLoaded(Exception):
    pass


def new_chat(ctx: WorkerContext, file_status: DocumentStatus | None) -> int:
    """A chat of its own (the test database is shared), with one file in ``file_status``."""
    tag = uuid.uuid4().hex
    with ctx.db.session() as session:
        user = User(username=f"retrieval{tag[:8]}", password_hash="x")
        chat = ChatSession(owner=user, title="t")
        session.add(chat)
        session.flush()
        if file_status is not None:
            session.add(
                RagDocument(
                    owner_id=user.id,
                    session_id=chat.id,
                    title="notes.txt",
                    original_name="notes.txt",
                    content_type="text/plain",
                    size_bytes=5,
                    sha256=tag + tag,
                    storage_name=tag,
                    status=file_status,
                )
            )
        session.commit()
        return chat.id


def load(loads: list[str]) -> Embedder:
    loads.append("loaded")
    raise EmbedderLoaded


def no_collection(files: bool) -> VectorStore:
    raise AssertionError(f"a collection was opened (files={files})")


@pytest.mark.parametrize("file_status", [None, DocumentStatus.QUEUED, DocumentStatus.ERROR])
def test_a_chat_without_ready_files_or_knowledge_base_does_not_load_the_embedder(
    settings: Settings, file_status: DocumentStatus | None
) -> None:
    ctx = build_context(settings)
    loads: list[str] = []
    try:
        chat = new_chat(ctx, file_status)
        assert (
            retrieve(ctx, lambda: load(loads), "What is in it?", chat, False, no_collection) == []
        )
        assert loads == []
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize(
    ("file_status", "knowledge_base"), [(DocumentStatus.READY, False), (None, True)]
)
def test_a_chat_with_a_ready_file_or_the_knowledge_base_loads_it(
    settings: Settings, file_status: DocumentStatus | None, knowledge_base: bool
) -> None:
    ctx = build_context(settings)
    loads: list[str] = []
    try:
        chat = new_chat(ctx, file_status)
        with pytest.raises(EmbedderLoaded):
            retrieve(
                ctx, lambda: load(loads), "What is in it?", chat, knowledge_base, no_collection
            )
        assert loads == ["loaded"]
    finally:
        ctx.db.dispose()
