"""Broken uploads on every upload route (documents, batches): malformed multipart bodies get
400, 413 or 415 in the JSON envelope and store nothing; files whose bytes are not what their
name says are refused with a reason, or stored and end as `error` with a reason, never a 5xx
and never a document stuck on its way."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.config import Settings
from app.models import BatchJob, RagDocument
from tests.rag.files import docx_bytes, pdf_bytes
from tests.rag.helpers import upload, wait_for_status

BOUNDARY = "qc-test-boundary"
GOOD_BATCH = b'{"custom_id": "a", "prompt": "hello"}\n'
ROUTES = {"/api/documents": ("files", "notes.txt"), "/api/batches": ("file", "batch.jsonl")}


def part(field: str, content: bytes, *, filename: str | None, extra: bytes = b"") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{field}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return (
        f"--{BOUNDARY}\r\n{disposition}\r\n".encode()
        + extra
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content
        + b"\r\n"
    )


def closed(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def malformed_bodies(field: str, filename: str) -> dict[str, tuple[bytes, str, int, str]]:
    """name -> (body, Content-Type, status, error code)."""
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    whole = closed(part(field, GOOD_BATCH, filename=filename))
    no_disposition = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--{BOUNDARY}--\r\n"
    return {
        "no boundary": (whole, "multipart/form-data", 400, "malformed_multipart"),
        "truncated": (whole[: len(whole) // 2], multipart, 400, "malformed_multipart"),
        "no closing boundary": (
            whole[: whole.rindex(b"--")],
            multipart,
            400,
            "malformed_multipart",
        ),
        "no disposition": (no_disposition.encode(), multipart, 400, "malformed_multipart"),
        "a file part without a filename": (
            closed(part(field, GOOD_BATCH, filename=None)),
            multipart,
            400,
            "malformed_multipart",
        ),
        "a 1 MB part header": (
            closed(
                part(
                    field, GOOD_BATCH, filename=filename, extra=b"X-Pad: " + b"a" * 2**20 + b"\r\n"
                )
            ),
            multipart,
            413,
            "request_entity_too_large",
        ),
        "JSON instead of multipart": (
            b'{"files": "x"}',
            "application/json",
            415,
            "unsupported_media_type",
        ),
        "no Content-Type": (whole, "", 415, "unsupported_media_type"),
    }


def stored(app: Flask, settings: Settings) -> tuple[int, int, int]:
    with app.extensions["queuechat"].db.session() as db:
        documents = db.scalar(select(func.count()).select_from(RagDocument)) or 0
        batches = db.scalar(select(func.count()).select_from(BatchJob)) or 0
    files = len(list(settings.uploads_dir.glob("*"))) if settings.uploads_dir.exists() else 0
    return documents, batches, files


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_malformed_multipart_is_refused_and_stores_nothing(
    idle_app: Flask, settings: Settings, admin_headers: dict[str, str], route: str
) -> None:
    client = idle_app.test_client()
    before = stored(idle_app, settings)
    field, filename = ROUTES[route]
    for name, (body, content_type, status, code) in malformed_bodies(field, filename).items():
        headers = {**admin_headers, "Content-Type": content_type} if content_type else admin_headers
        response = client.post(route, data=body, headers=headers)
        assert response.status_code == status, (route, name, response.data[:300])
        assert response.is_json, (route, name)
        assert response.json["error"]["code"] == code, (route, name, response.json)
        assert "Traceback" not in response.json["error"]["message"]
    assert stored(idle_app, settings) == before
    # the same route still takes a well-formed upload afterwards
    good = closed(part(field, GOOD_BATCH, filename="ok.jsonl"))
    if route == "/api/batches":
        headers = {**admin_headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        assert client.post(route, data=good, headers=headers).status_code == 202


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + (b"This program cannot be run in DOS mode.\r\r\n$")
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00>\x00\x01\x00\x00\x00"
PDF = pdf_bytes(["A page of the manual."])
DOCX = docx_bytes([("Intro", "A paragraph of the guide.")])
# a PDF with a zip carrying a Word document appended: readers of either format accept it
PDF_ZIP = PDF + zipped({"word/document.xml": b"<w:document/>"})
REFUSED: list[tuple[str, bytes, str]] = [
    ("report.pdf", DOCX, "not a valid .pdf"),  # a zip (a real .docx) named .pdf
    ("report.pdf", b"plain words, no PDF header", "not a valid .pdf"),
    ("notes.docx", b"just plain text in a .docx", "not a valid .docx"),
    ("sheet.docx", zipped({"xl/workbook.xml": b"<workbook/>"}), "not a valid .docx"),
    ("polyglot.docx", PDF_ZIP, "not a valid .docx"),  # starts as a PDF
    ("setup.txt", EXE, "not a valid .txt"),  # an exe renamed
    ("tool.md", ELF, "not a valid .md"),
    ("guide.txt", DOCX, "not a valid .txt"),
    ("page.html", PDF, "not a valid .html"),
    (
        "image.html",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00<html><body>hi</body></html>",
        "not a valid",
    ),
]


def test_files_whose_bytes_are_not_their_type_are_refused_with_the_reason(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    before = stored(app, settings)
    for name, content, reason in REFUSED:
        response = upload(client, admin_headers, (name, content))
        assert response.status_code == 415, (name, response.data[:300])
        assert response.json["error"]["code"] == "unsupported_document"
        assert reason in response.json["error"]["message"], (name, response.json)
    assert stored(app, settings) == before


@pytest.mark.usefixtures("ingest_worker")
def test_accepted_polyglots_end_ready_or_error_never_stuck(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """Bytes that pass the type check but are odd inside: each document reaches a final state
    (ready, or error with a reason), and the worker goes on to the next one."""
    cases: dict[str, tuple[bytes, Callable[[dict[str, Any]], bool]]] = {
        "polyglot.pdf": (PDF_ZIP, lambda d: d["status"] == "ready" or bool(d["error"])),
        "broken.docx": (
            zipped({"word/document.xml": b"<not-closed", "[Content_Types].xml": b"<x/>"}),
            lambda d: d["status"] == "error" and bool(d["error"]),
        ),
        "script.txt": (
            b"<script>alert(1)</script> plain text that looks like HTML to a browser",
            lambda d: d["status"] == "ready",
        ),
    }
    ids = []
    try:
        for name, (content, _) in cases.items():
            response = upload(client, admin_headers, (name, content))
            assert response.status_code == 202, (name, response.json)
            ids.append(response.json["items"][0]["id"])
        for document_id, (name, (_, final)) in zip(ids, cases.items(), strict=True):
            done = wait_for_status(client, admin_headers, document_id, {"ready", "error"})
            assert final(done), (name, done)
    finally:
        for document_id in ids:  # the knowledge base is shared (the e2e tests start from none)
            client.delete(f"/api/documents/{document_id}", headers=admin_headers)
