"""Upload checks and storage for knowledge-base documents: type from content, size, duplicates."""

from __future__ import annotations

import hashlib
import io
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from app.errors import EmptyDocument, UnsupportedDocument, UploadTooLarge

KINDS = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class CheckedUpload:
    original_name: str
    title: str
    content_type: str
    data: bytes
    sha256: str


def safe_name(filename: str | None) -> str:
    """The client's file name without any directory part, for display only."""
    name = PurePath((filename or "").replace("\\", "/")).name
    # control and format characters (NUL, newlines, bidi overrides) never reach a header
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    return name[:300] or "document"


def sniff(data: bytes) -> str | None:
    """The document type the bytes really are, or None when unsupported."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return KINDS[".docx"]
        except zipfile.BadZipFile:
            return None
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return "text/html"
    return "text/plain"


def check_unpacked(name: str, data: bytes, max_bytes: int, max_ratio: int) -> None:
    """A zip (a .docx) must not unpack past the limits: a 1 MB file can hold 1 GB of XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_bytes:
        raise UploadTooLarge(
            f"{name}: unpacks to {unpacked // (1024 * 1024)} MB, more than the "
            f"{max_bytes // (1024 * 1024)} MB limit"
        )
    for member in members:
        if member.file_size > max_ratio * max(member.compress_size, 1024):
            raise UnsupportedDocument(
                f"{name}: {member.filename} is compressed over {max_ratio}:1; "
                "such a file is not a real document"
            )


def check_upload(
    filename: str | None,
    data: bytes,
    max_bytes: int,
    *,
    max_unpacked_bytes: int,
    max_unpack_ratio: int,
) -> CheckedUpload:
    name = safe_name(filename)
    suffix = PurePath(name).suffix.lower()
    declared = KINDS.get(suffix)
    if declared is None:
        raise UnsupportedDocument(
            f"{name}: unsupported file type; upload .txt, .md, .html, .pdf or .docx"
        )
    if len(data) > max_bytes:
        raise UploadTooLarge(f"{name}: larger than the {max_bytes // (1024 * 1024)} MB limit")
    if not data.strip():
        raise EmptyDocument(f"{name}: the file is empty")
    actual = sniff(data)
    text_like = declared in {"text/plain", "text/markdown", "text/html"}
    matches = actual == declared or (text_like and actual in {"text/plain", "text/html"})
    if not matches:
        raise UnsupportedDocument(f"{name}: the content is not a valid {suffix} file")
    if actual == KINDS[".docx"]:
        check_unpacked(name, data, max_unpacked_bytes, max_unpack_ratio)
    return CheckedUpload(
        original_name=name,
        title=PurePath(name).stem[:300] or name,
        content_type=declared,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_file(uploads_dir: Path, data: bytes) -> str:
    """Writes the bytes under a generated name (never the client's) and returns that name."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    storage_name = uuid.uuid4().hex
    (uploads_dir / storage_name).write_bytes(data)
    return storage_name
