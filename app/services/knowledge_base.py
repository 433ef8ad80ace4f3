"""The team's knowledge base: documents stored, indexed by ingest workers, re-indexed, deleted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.enums import DocumentStatus
from app.errors import Conflict
from app.events import publish_document
from app.models import RagDocument, utcnow
from app.resources import Resources
from app.schemas.documents import DocumentOut
from app.services.dispatch import send_or_fail
from app.services.ownership import document_or_404
from app.services.uploads import CheckedUpload, store_file

BUSY = {DocumentStatus.QUEUED, DocumentStatus.EXTRACTING, DocumentStatus.EMBEDDING}


def list_documents(db: Session) -> Sequence[RagDocument]:
    kb = RagDocument.session_id.is_(None)  # a chat's files are its owner's alone
    return db.scalars(select(RagDocument).where(kb).order_by(RagDocument.id.desc())).all()


def announce(res: Resources, document: RagDocument) -> None:
    """Tells admins' sockets the document's new state (a chat's file is not theirs to see)."""
    if document.session_id is not None:
        return
    publish_document(res.redis, DocumentOut.model_validate(document).model_dump(mode="json"))


def split_duplicates(
    db: Session, uploads: Sequence[CheckedUpload]
) -> tuple[list[CheckedUpload], list[tuple[CheckedUpload, int | None]]]:
    """The uploads whose content is new, and the others with the document that has it (None:
    an earlier file of the same upload)."""
    hashes = [u.sha256 for u in uploads]
    rows = db.execute(
        select(RagDocument.sha256, RagDocument.id).where(RagDocument.sha256.in_(hashes))
    )
    existing: dict[str, int] = dict(rows.all())
    fresh: list[CheckedUpload] = []
    duplicates: list[tuple[CheckedUpload, int | None]] = []
    for index, upload in enumerate(uploads):
        if upload.sha256 in existing or upload.sha256 in hashes[:index]:
            duplicates.append((upload, existing.get(upload.sha256)))
        else:
            fresh.append(upload)
    return fresh, duplicates


def add_documents(
    res: Resources, db: Session, owner_id: int, uploads: Sequence[CheckedUpload]
) -> list[RagDocument]:
    """Stores the files and their rows, then queues each for ingest (new content only: see
    split_duplicates); a concurrent upload of the same content is 409."""
    uploads_dir = res.settings.uploads_dir
    documents = [
        RagDocument(
            owner_id=owner_id,
            title=checked.title,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size_bytes=len(checked.data),
            sha256=checked.sha256,
            storage_name=store_file(uploads_dir, checked.data),
            meta={},
        )
        for checked in uploads
    ]
    db.add_all(documents)
    try:
        db.commit()
    except IntegrityError as exc:  # a concurrent upload of the same content won
        db.rollback()
        for document in documents:
            (uploads_dir / document.storage_name).unlink(missing_ok=True)
        raise Conflict("already uploaded: the same content exists") from exc
    enqueue_ingest(res, db, documents)
    return documents


def enqueue_ingest(res: Resources, db: Session, documents: Sequence[RagDocument]) -> None:
    """Announces the queued documents and sends their jobs; any the broker refused fail visibly."""
    for document in documents:
        announce(res, document)
    unsent = list(documents)

    def send() -> None:
        while unsent:
            res.jobs.enqueue_ingest(unsent[0].id)
            unsent.pop(0)

    def mark_failed(reason: str) -> None:
        for document in unsent:
            document.status = DocumentStatus.ERROR
            document.error = reason
            document.updated_at = utcnow()

    try:
        send_or_fail(db, send, mark_failed, f"{len(unsent)} document(s)")
    finally:
        for document in unsent:
            announce(res, document)


def delete_document(res: Resources, db: Session, document_id: int) -> None:
    """Removes the row and the file now; the vectors are deleted by an ingest worker."""
    document = document_or_404(db, document_id)
    storage_name = document.storage_name
    db.delete(document)
    db.commit()
    (res.settings.uploads_dir / storage_name).unlink(missing_ok=True)
    res.jobs.enqueue_vector_delete(document_id)
    publish_document(res.redis, {"id": document_id, "status": "deleted"})


def reindex_document(res: Resources, db: Session, document_id: int) -> RagDocument:
    """Extracts and embeds the document again; 409 while it is being indexed."""
    document = document_or_404(db, document_id)
    if document.status in BUSY:
        raise Conflict(f"the document is being indexed ({document.status})")
    document.status = DocumentStatus.QUEUED
    document.progress = 0.0
    document.chunks_done = 0
    document.error = None
    document.attempts = 0
    document.updated_at = utcnow()
    db.commit()
    enqueue_ingest(res, db, [document])
    return document
