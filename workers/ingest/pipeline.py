"""One document job: claim, extract, chunk, embed in batches, store, report progress."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import update

from app.config import Settings
from app.enums import DocumentStatus
from app.events import publish_document
from app.jobs import JobQueue
from app.metrics import observe_ingest_chunks
from app.models import RagDocument, utcnow
from app.schemas.documents import DocumentOut
from app.services.chat_files import replies_to_release
from workers.context import WorkerContext
from workers.ingest.chunking import chunk_sections
from workers.ingest.embedder import Embedder
from workers.ingest.extract import ExtractionError, Limits, extract
from workers.leases import leased
from workers.vectors import Chunk, get_vector_store

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
WORKING = [DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING]
FINAL = (DocumentStatus.READY, DocumentStatus.ERROR)


def set_state(ctx: WorkerContext, document_id: int, **values: Any) -> bool:
    """Updates the row (unless deleted meanwhile) and publishes it to admins; a chat's file,
    once read (or not readable), lets the chat's waiting replies go (``release_replies``)."""
    with ctx.db.session() as session:
        changed = session.execute(
            update(RagDocument)
            .where(RagDocument.id == document_id)
            .values(updated_at=utcnow(), **values)
        )
        document = session.get(RagDocument, document_id)
        chat_id = document.session_id if document is not None else None
        shared = document is not None and chat_id is None
        payload = DocumentOut.model_validate(document).model_dump(mode="json") if shared else None
    if payload is not None:
        publish_document(ctx.streams.client, payload)
    if chat_id is not None and values.get("status") in FINAL:
        release_replies(ctx, chat_id)
    return bool(getattr(changed, "rowcount", 0))


def release_replies(ctx: WorkerContext, chat_id: int) -> None:
    """Sends the chat's waiting replies once none of its files is being read. Read after the
    file's state is committed: a question sent meanwhile is either seen here or sees the file
    read and sends its reply itself (app/services/replies.py); sending one twice is harmless."""
    with ctx.db.session() as session:
        waiting = replies_to_release(session, chat_id)
    for reply_id, model in waiting:
        job_queue(ctx.settings).enqueue_reply(reply_id, model)


def job_queue(settings: Settings) -> JobQueue:
    """One sender per broker in this process."""
    if settings.redis_url not in _queues:
        _queues[settings.redis_url] = JobQueue(settings)
    return _queues[settings.redis_url]


_queues: dict[str, JobQueue] = {}


def claim(ctx: WorkerContext, document_id: int) -> tuple[RagDocument, int] | None:
    with ctx.db.session() as session:
        attempt = session.execute(
            update(RagDocument)
            .where(RagDocument.id == document_id, RagDocument.status.in_(WORKING))
            .values(
                status=DocumentStatus.EXTRACTING,
                attempts=RagDocument.attempts + 1,
                progress=0.0,
                chunks_done=0,
                error=None,
                updated_at=utcnow(),
            )
            .returning(RagDocument.attempts)
        ).scalar_one_or_none()
        document = session.get(RagDocument, document_id) if attempt is not None else None
    return (document, attempt) if document is not None and attempt is not None else None


def ingest_document(ctx: WorkerContext, embedder: Embedder, document_id: int) -> None:
    """Indexes the document under a lease (a dead worker's document is taken up again)."""
    with leased(ctx.streams.client, "document", document_id, ctx.settings.lease_ttl_s) as lease:
        if lease is None:
            logger.info("document %s is being indexed by another worker", document_id)
            return
        index_document(ctx, embedder, document_id)


def index_document(ctx: WorkerContext, embedder: Embedder, document_id: int) -> None:
    claimed = claim(ctx, document_id)
    if claimed is None:
        logger.info("document %s is gone or already indexed", document_id)
        return
    document, attempt = claimed
    store = get_vector_store(files=document.session_id is not None)
    set_state(ctx, document_id)  # announce "extracting"
    if attempt > MAX_ATTEMPTS:
        set_state(
            ctx,
            document_id,
            status=DocumentStatus.ERROR,
            error=f"indexing failed after {MAX_ATTEMPTS} attempts",
        )
        return
    settings = ctx.settings
    limits = Limits(
        pages=settings.max_document_pages,
        chars=settings.max_document_chars,
        seconds=settings.extract_time_limit_s,
    )
    try:
        data = (settings.uploads_dir / document.storage_name).read_bytes()
        sections = extract(data, document.content_type, limits)
    except ExtractionError as exc:
        set_state(ctx, document_id, status=DocumentStatus.ERROR, error=str(exc))
        return
    except OSError:
        set_state(ctx, document_id, status=DocumentStatus.ERROR, error="the stored file is missing")
        return
    except Exception as exc:  # a parser's own bug on a hostile file: stated, logged, not stuck
        logger.exception("extracting document %s failed", document_id)
        reason = f"the text could not be extracted ({type(exc).__name__})"
        set_state(ctx, document_id, status=DocumentStatus.ERROR, error=reason)
        return
    size = min(settings.chunk_tokens, embedder.max_tokens - 2)
    chunks = [
        Chunk(
            document_id,
            index,
            text,
            document.title,
            section.page,
            section.heading,
            document.session_id,
        )  # fmt: skip
        for index, (section, text) in enumerate(
            chunk_sections(
                sections,
                embedder.tokenizer,
                size=size,
                overlap=min(settings.chunk_overlap_tokens, size // 2),
            )
        )
    ]
    pages = max((s.page or 0 for s in sections), default=0)
    if not set_state(
        ctx,
        document_id,
        status=DocumentStatus.EMBEDDING,
        chunk_count=len(chunks),
        meta={"sections": len(sections), "pages": pages or None},
    ):
        return  # deleted meanwhile
    batch = max(1, settings.embed_batch_size)
    # similar lengths in one batch pad less: encode in length order (ids keep their place)
    by_length = sorted(chunks, key=lambda chunk: len(chunk.text))
    timings = {"encode": 0.0, "store": 0.0}
    for start in range(0, len(chunks), batch):
        part = by_length[start : start + batch]
        began = time.perf_counter()
        vectors = embedder.encode([c.text for c in part])
        encoded = time.perf_counter()
        store.upsert(part, vectors)
        observe_ingest_chunks(len(part))
        timings["encode"] += encoded - began
        timings["store"] += time.perf_counter() - encoded
        done = start + len(part)
        if not set_state(ctx, document_id, chunks_done=done, progress=done / len(chunks)):
            store.delete_document(document_id)  # deleted while embedding: leave nothing
            return
    store.delete_document(document_id, from_index=len(chunks))  # a shorter re-index
    set_state(ctx, document_id, status=DocumentStatus.READY, progress=1.0)
    logger.info(
        "document %s: %d chunks, encode %.1f s, store %.1f s",
        document_id,
        len(chunks),
        timings["encode"],
        timings["store"],
    )
