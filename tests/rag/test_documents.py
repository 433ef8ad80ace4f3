"""Documents through the real ingest worker, real embedder and a real Chroma server."""

from __future__ import annotations

from typing import Any

import chromadb
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.config import Settings
from app.models import RagDocument
from testkit.processes import LiveServer, wait_until
from testkit.wsclient import ChatSocket
from tests.rag.files import docx_bytes, pdf_bytes
from tests.rag.helpers import upload, wait_for_status

pytestmark = pytest.mark.usefixtures("ingest_worker")


def vector_count(settings: Settings, document_id: int) -> int:
    host, port = settings.chroma_url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
    collection = client.get_collection(settings.chroma_collection)
    return len(collection.get(where={"document_id": document_id}, include=[])["ids"])


def long_text_chunks(settings: Settings, text: str) -> int:
    """The expected chunk count, from the tokenizer of the same embedding model."""
    from transformers import AutoTokenizer

    from workers.ingest.embedder import default_model_path

    tokens = len(
        AutoTokenizer.from_pretrained(default_model_path())(
            " ".join(text.split()), add_special_tokens=False
        )["input_ids"]
    )
    size, step = settings.chunk_tokens, settings.chunk_tokens - settings.chunk_overlap_tokens
    count, start = 1, 0
    while start + size < tokens:
        start += step
        count += 1
    return count


def test_each_type_reaches_ready_with_the_right_chunks(
    client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    long_text = " ".join(
        f"Sentence number {i} talks about lighthouses and ships." for i in range(90)
    )
    files = {
        "notes.txt": (long_text.encode(), long_text_chunks(settings, long_text)),
        "guide.md": (b"# Intro\nWelcome aboard.\n\n## Rules\nNo running.\n\n## Food\nSoup.", 3),
        "page.html": (
            b"<html><body><h1>Hours</h1><p>Open 9 to 5.</p><h2>Fees</h2>"
            b"<p>Free entry.</p><script>alert(1)</script></body></html>",
            2,
        ),
        "report.pdf": (pdf_bytes(["The Zephyr bridge opened in 1932.", "Tolls were removed."]), 2),
        "history.docx": (docx_bytes([("Origins", "Founded in 1850."), ("Now", "A museum.")]), 2),
    }
    response = upload(client, admin_headers, *[(n, c) for n, (c, _) in files.items()])
    assert response.status_code == 202, response.json
    items = {item["original_name"]: item for item in response.json["items"]}
    assert set(items) == set(files)
    for name, (content, expected_chunks) in files.items():
        item = items[name]
        assert item["status"] == "queued"
        assert item["size_bytes"] == len(content)
        done = wait_for_status(client, admin_headers, item["id"], {"ready", "error"})
        assert done["status"] == "ready", done
        assert done["chunk_count"] == expected_chunks, (name, done)
        assert done["chunks_done"] == expected_chunks and done["progress"] == 1.0
        assert vector_count(settings, item["id"]) == expected_chunks
        download = client.get(f"/api/documents/{item['id']}/file", headers=admin_headers)
        assert download.data == content
        assert name in download.headers["Content-Disposition"]
        download.close()
    pdf = client.get(f"/api/documents/{items['report.pdf']['id']}", headers=admin_headers).json
    assert pdf["metadata"]["pages"] == 2


def test_delete_removes_row_file_and_vectors(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    item = upload(client, admin_headers, ("gone.txt", b"Temporary facts about owls.")).json[
        "items"
    ][0]
    wait_for_status(client, admin_headers, item["id"], {"ready"})
    assert vector_count(settings, item["id"]) == 1
    with app.extensions["queuechat"].db.session() as db:
        stored = settings.uploads_dir / db.get_one(RagDocument, item["id"]).storage_name
    assert stored.exists()
    assert client.delete(f"/api/documents/{item['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/documents/{item['id']}", headers=admin_headers).status_code == 404
    assert not stored.exists()
    wait_until(lambda: vector_count(settings, item["id"]) == 0, timeout=30, what="vectors gone")


def test_reindex_and_duplicates(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    content = b"Unique content about the reindexed walrus."
    item = upload(client, admin_headers, ("walrus.txt", content)).json["items"][0]
    wait_for_status(client, admin_headers, item["id"], {"ready"})
    again = upload(client, admin_headers, ("copy.txt", content))
    assert again.status_code == 409
    [refused] = again.json["error"]["details"]
    assert refused["name"] == "copy.txt" and refused["existing_document_id"] == item["id"]
    assert refused["status"] == 409 and "same content" in refused["message"]
    # the same content twice in one upload: the first is taken, the second refused
    twice = upload(client, admin_headers, ("a.txt", b"same twice"), ("b.txt", b"same twice"))
    assert twice.status_code == 202, twice.json
    assert [d["original_name"] for d in twice.json["items"]] == ["a.txt"]
    assert [(r["name"], r["status"]) for r in twice.json["rejected"]] == [("b.txt", 409)]
    reindexed = client.post(f"/api/documents/{item['id']}/reindex", headers=admin_headers)
    assert reindexed.status_code == 202
    assert reindexed.json["status"] == "queued"
    done = wait_for_status(client, admin_headers, item["id"], {"ready", "error"})
    assert done["status"] == "ready" and done["chunk_count"] == 1


def test_bad_uploads_store_nothing(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    def counts() -> tuple[int, int]:
        with app.extensions["queuechat"].db.session() as db:
            rows = db.scalar(select(func.count()).select_from(RagDocument)) or 0
        files = len(list(settings.uploads_dir.glob("*"))) if settings.uploads_dir.exists() else 0
        return rows, files

    before = counts()
    cases: list[tuple[list[tuple[str, bytes]], int, str]] = [
        ([("empty.txt", b"")], 422, "empty"),
        ([("blank.md", b"  \n\t ")], 422, "empty"),
        ([("fake.pdf", b"this is plain text, not a PDF")], 415, "not a valid .pdf"),
        ([("fake.docx", b"PK\x03\x04 not really a zip")], 415, "not a valid .docx"),
        ([("binary.txt", b"\x00\x01\x02\x03 binary")], 415, "not a valid .txt"),
        ([("tool.exe", b"MZ\x90\x00")], 415, "unsupported file type"),
        ([("worse.pdf", b"nope"), ("tool.exe", b"MZ")], 415, "worse.pdf, tool.exe"),
    ]
    for files, status, words in cases:
        response = upload(client, admin_headers, *files)
        assert response.status_code == status, (files[0][0], response.json)
        assert words in response.json["error"]["message"]
    none = client.post(
        "/api/documents", data={}, headers=admin_headers, content_type="multipart/form-data"
    )
    assert none.status_code == 422
    small = app.extensions["queuechat"].settings.model_copy(update={"max_upload_bytes": 100})
    from app import create_app

    limited = create_app(small).test_client()
    too_big = upload(limited, admin_headers, ("big.txt", b"x" * 101))
    assert too_big.status_code == 413
    assert too_big.json["error"]["code"] == "too_large"
    assert counts() == before


def test_an_upload_takes_the_good_files_and_names_each_refused_one(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = upload(
        client,
        admin_headers,
        ("good.txt", b"Fine text about the partial upload heron."),
        ("bad.pdf", b"nope"),
        ("empty.md", b""),
    )
    assert response.status_code == 202, response.json
    assert [d["original_name"] for d in response.json["items"]] == ["good.txt"]
    rejected = {r["name"]: (r["status"], r["code"]) for r in response.json["rejected"]}
    assert rejected == {
        "bad.pdf": (415, "unsupported_document"),
        "empty.md": (422, "empty_document"),
    }
    assert all(r["message"].startswith(r["name"]) for r in response.json["rejected"])
    done = wait_for_status(client, admin_headers, response.json["items"][0]["id"], {"ready"})
    assert done["chunk_count"] == 1


def test_broken_pdfs_fail_on_the_document_not_the_worker(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    corrupt = upload(client, admin_headers, ("corrupt.pdf", b"%PDF-1.7\n garbage " * 20)).json
    encrypted = upload(
        client, admin_headers, ("locked.pdf", pdf_bytes(["secret"], encrypt=True))
    ).json
    bad = wait_for_status(client, admin_headers, corrupt["items"][0]["id"], {"ready", "error"})
    assert bad["status"] == "error"
    assert "damaged or unreadable" in bad["error"]
    locked = wait_for_status(client, admin_headers, encrypted["items"][0]["id"], {"ready", "error"})
    assert locked["status"] == "error" and "encrypted" in locked["error"]
    healthy = upload(client, admin_headers, ("after.txt", b"The worker still works.")).json
    assert (
        wait_for_status(client, admin_headers, healthy["items"][0]["id"], {"ready", "error"})[
            "status"
        ]
        == "ready"
    )


def test_only_admins_manage_documents(
    client: FlaskClient, auth_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    item = upload(client, admin_headers, ("private.txt", b"Admin-only document.")).json["items"][0]
    probes: list[tuple[str, str, Any]] = [
        ("get", "/api/documents", None),
        ("get", f"/api/documents/{item['id']}", None),
        ("get", f"/api/documents/{item['id']}/file", None),
        ("delete", f"/api/documents/{item['id']}", None),
        ("post", f"/api/documents/{item['id']}/reindex", None),
    ]
    for method, url, _ in probes:
        response = getattr(client, method)(url, headers=auth_headers)
        assert response.status_code == 403, (method, url)
        assert response.json["error"]["code"] == "forbidden"
    denied = upload(client, auth_headers, ("x.txt", b"user upload"))
    assert denied.status_code == 403
    assert client.get(f"/api/documents/{item['id']}", headers=admin_headers).status_code == 200


def test_progress_events_reach_admins_live(
    client: FlaskClient,
    admin_headers: dict[str, str],
    auth_headers: dict[str, str],
    live_server: LiveServer,
) -> None:
    token = admin_headers["Authorization"].removeprefix("Bearer ")
    sock = ChatSocket(live_server.ws_url, token)
    sock.send({"type": "subscribe_documents"})
    assert sock.recv() == {"type": "subscribed", "channel": "documents"}
    text = " ".join(f"Line {i} about the progress of a long document." for i in range(200))
    item = upload(client, admin_headers, ("progress.txt", text.encode())).json["items"][0]
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["status"] not in {"ready", "error"}:
        event = sock.recv()
        if event["type"] == "document" and event["document"]["id"] == item["id"]:
            seen.append(event["document"])
    sock.close()
    statuses = [e["status"] for e in seen]
    assert statuses[0] == "queued" and statuses[-1] == "ready"
    assert "extracting" in statuses and "embedding" in statuses
    done = [e["chunks_done"] for e in seen if e["status"] == "embedding"]
    assert done == sorted(done) and seen[-1]["chunks_done"] == seen[-1]["chunk_count"] > 1
    user_sock = ChatSocket(
        live_server.ws_url, auth_headers["Authorization"].removeprefix("Bearer ")
    )
    user_sock.send({"type": "subscribe_documents"})
    assert user_sock.recv()["code"] == "forbidden"
    user_sock.close()
