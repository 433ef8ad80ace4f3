"""Documents built to explode: a .docx whose XML inflates a thousandfold is refused at upload,
and extraction stops at the page, character and time limits with a stated reason."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask.testing import FlaskClient

from app.errors import UploadTooLarge
from app.services.uploads import check_unpacked
from tests.rag.files import docx_bytes, pdf_bytes
from tests.rag.helpers import upload
from workers.ingest.extract import ExtractionError, Limits, Section, extract

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def inflating_docx(xml_bytes: int) -> bytes:
    """A real .docx whose word/document.xml is padded with spaces that compress to nothing."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes([("Title", "text")])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b" " * xml_bytes, 1)
            bomb.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def test_a_docx_that_inflates_a_thousandfold_is_refused_at_upload(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    bomb = inflating_docx(32 * 1024 * 1024)  # 32 MB of XML in about 32 KB
    assert len(bomb) < 100_000
    response = upload(client, admin_headers, ("bomb.docx", bomb))
    assert response.status_code == 415, response.json
    assert "compressed over 100:1" in response.json["error"]["message"]
    listed = client.get("/api/documents", headers=admin_headers).json["items"]
    assert "bomb.docx" not in [d["original_name"] for d in listed]
    fine = upload(client, admin_headers, ("fine.docx", docx_bytes([("Fine", "a normal file")])))
    assert fine.status_code == 202
    document_id = fine.json["items"][0]["id"]
    assert client.delete(f"/api/documents/{document_id}", headers=admin_headers).status_code == 204


def test_the_unpacked_size_of_a_zip_is_bounded() -> None:
    packed = docx_bytes([("Heading", "some text " * 2000)])
    check_unpacked("ok.docx", packed, 10 * 1024 * 1024, 100)
    with pytest.raises(UploadTooLarge, match="unpacks to"):
        check_unpacked("big.docx", packed, 1024, 100)


def test_extraction_stops_at_the_page_limit() -> None:
    with pytest.raises(ExtractionError, match="the PDF has 5 pages, over 3"):
        extract(pdf_bytes(["a", "b", "c", "d", "e"]), "application/pdf", Limits(pages=3))
    assert len(extract(pdf_bytes(["a", "b", "c"]), "application/pdf", Limits(pages=3))) == 3


def test_extraction_stops_at_the_character_limit() -> None:
    text = ("word " * 400).encode()
    with pytest.raises(ExtractionError, match="over 1000 characters"):
        extract(text, "text/plain", Limits(chars=1000))
    with pytest.raises(ExtractionError, match="over 1000 characters"):
        extract(docx_bytes([("H", "x" * 600), ("I", "y" * 600)]), DOCX, Limits(chars=1000))


def test_extraction_stops_at_the_time_limit() -> None:
    expired = Limits(seconds=1.0, started=0.0)  # a clock that ran out long ago
    with pytest.raises(ExtractionError, match="took over 1 s"):
        list(expired.bounded([Section("text")]))
