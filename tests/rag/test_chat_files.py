"""Files attached in a chat, with the real ingest and inference workers, Chroma and the model:
read into the chat's own index, the question waits until they are read, the reply cites them;
nobody else (another user, an admin, another chat) can list, delete or retrieve them; deleting
the chat deletes their rows, bytes and vectors."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import chromadb
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import Settings
from app.models import RagDocument
from testkit.processes import wait_until
from tests.conftest import register_and_login


def attach(
    client: FlaskClient, headers: dict[str, str], chat_id: int, *files: tuple[str, bytes]
) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/api/sessions/{chat_id}/files", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def new_chat(client: FlaskClient, headers: dict[str, str]) -> int:
    return int(client.post("/api/sessions", json={}, headers=headers).json["id"])  # type: ignore[index]


def file_vectors(settings: Settings, file_id: int) -> int:
    host, port = settings.chroma_url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
    collection = client.get_or_create_collection(settings.chroma_collection + "-files")
    return len(collection.get(where={"document_id": file_id}, include=[])["ids"])


def final(client: FlaskClient, headers: dict[str, str], message_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        message: dict[str, Any] = client.get(f"/api/messages/{message_id}", headers=headers).json
        if message["status"] not in ("queued", "generating"):
            return message
        time.sleep(0.2)
    raise AssertionError(f"message {message_id} did not finish: {message}")


def test_files_are_the_owners_alone_and_bounded(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    owner = register_and_login(client)
    chat = new_chat(client, owner)
    taken = attach(client, owner, chat, ("notes.txt", b"Private notes of the owner."),
                   ("fake.pdf", b"not a pdf"))  # fmt: skip
    assert taken.status_code == 202, taken.json
    assert [f["original_name"] for f in taken.json["items"]] == ["notes.txt"]
    assert [(r["name"], r["status"]) for r in taken.json["rejected"]] == [("fake.pdf", 415)]
    file_id = taken.json["items"][0]["id"]
    again = attach(client, owner, chat, ("copy.txt", b"Private notes of the owner."))
    assert again.status_code == 409 and "already attached" in again.json["error"]["message"]
    # the same bytes in another chat are another file
    elsewhere = attach(
        client, owner, new_chat(client, owner), ("n.txt", b"Private notes of the owner.")
    )
    assert elsewhere.status_code == 202

    other = register_and_login(client)
    for method, path in (("get", f"/api/sessions/{chat}/files"),
                         ("delete", f"/api/sessions/{chat}/files/{file_id}")):  # fmt: skip
        answer = getattr(client, method)(path, headers=other)
        assert answer.status_code == 404, (path, answer.json)
    stolen = attach(client, other, chat, ("mine.txt", b"Sneaked in."))
    assert stolen.status_code == 404
    # a question of another user's cannot carry the file
    theirs = new_chat(client, other)
    carried = client.post(f"/api/sessions/{theirs}/messages", headers=other,
                          json={"content": "Read it", "file_ids": [file_id]})  # fmt: skip
    assert carried.status_code == 404 and carried.json["error"]["code"] == "not_found"
    # admins manage the knowledge base, not users' files
    listed = client.get("/api/documents", headers=admin_headers).json["items"]
    assert file_id not in [d["id"] for d in listed]
    for path in (f"/api/documents/{file_id}", f"/api/documents/{file_id}/download"):
        assert client.get(path, headers=admin_headers).status_code == 404
    assert client.delete(f"/api/documents/{file_id}", headers=admin_headers).status_code == 404
    mine = client.get(f"/api/sessions/{chat}/files", headers=owner).json["items"]
    assert [f["id"] for f in mine] == [file_id]

    limit = settings.max_chat_files
    many = [(f"part{n}.txt", f"Part {n} {uuid.uuid4().hex}".encode()) for n in range(limit)]
    over = attach(client, owner, chat, *many)
    assert over.status_code == 422 and f"at most {limit} files" in over.json["error"]["message"]
    assert len(client.get(f"/api/sessions/{chat}/files", headers=owner).json["items"]) == 1


@pytest.mark.usefixtures("ingest_worker", "celery_worker")
def test_a_question_waits_for_its_file_and_the_reply_cites_it_alone(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    code = uuid.uuid4().hex[:6].upper()
    fact = f"The access code of the Harlow storeroom is {code}, set by the facilities team."
    owner = register_and_login(client)
    chat = new_chat(client, owner)
    taken = attach(client, owner, chat, ("storeroom.md", f"# Storeroom\n{fact}\n".encode()))
    file_id = taken.json["items"][0]["id"]
    sent = client.post(f"/api/sessions/{chat}/messages", headers=owner,
                       json={"content": "What is the access code of the Harlow storeroom?",
                             "max_tokens": 24, "file_ids": [file_id]})  # fmt: skip
    assert sent.status_code == 202, sent.json
    reply = final(client, owner, sent.json["assistant_message_id"])
    files = client.get(f"/api/sessions/{chat}/files", headers=owner).json["items"]
    assert [(f["id"], f["status"], f["message_id"]) for f in files] == [
        (file_id, "ready", sent.json["user_message_id"])
    ]
    assert reply["status"] == "done", reply
    cited = [(c["document_id"], c["source"]) for c in reply["citations"]]
    assert cited == [(file_id, "chat_file")] and code in reply["citations"][0]["snippet"]
    question = client.get(f"/api/sessions/{chat}/messages", headers=owner).json["items"][0]
    assert [(f["id"], f["title"]) for f in question["files"]] == [(file_id, "storeroom")]

    # another user, or the owner's other chat, asking the same finds nothing of it
    other = register_and_login(client)
    for headers in (other, owner):
        elsewhere = new_chat(client, headers)
        asked = client.post(f"/api/sessions/{elsewhere}/messages", headers=headers,
                            json={"content": "What is the access code of the Harlow storeroom?",
                                  "max_tokens": 8, "use_knowledge_base": True})  # fmt: skip
        answer = final(client, headers, asked.json["assistant_message_id"])
        assert file_id not in [c["document_id"] for c in answer["citations"]], answer
        assert code not in answer["content"]

    # deleting the chat deletes the file's row, bytes and vectors
    with app.extensions["queuechat"].db.session() as db:
        stored = settings.uploads_dir / db.get_one(RagDocument, file_id).storage_name
    assert stored.exists() and file_vectors(settings, file_id) >= 1
    assert client.delete(f"/api/sessions/{chat}", headers=owner).status_code == 204
    with app.extensions["queuechat"].db.session() as db:
        assert db.get(RagDocument, file_id) is None
    assert not stored.exists()
    wait_until(lambda: file_vectors(settings, file_id) == 0, timeout=30, what="vectors gone")
