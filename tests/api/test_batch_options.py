"""A batch's defaults from the query (what the UI's form chooses): template, model and sampling
fill the lines that leave them out; a line's own value wins; unknown names are refused."""

from __future__ import annotations

import json
import uuid

from flask import Flask
from sqlalchemy import select

from app.models import BatchItem
from tests.conftest import register_and_login


def test_query_defaults_fill_lines_and_lines_win(
    idle_app: Flask, admin_headers: dict[str, str]
) -> None:
    client = idle_app.test_client()
    user = register_and_login(client)
    name = f"short-{uuid.uuid4().hex[:6]}"
    created = client.post("/api/templates", json={"name": name, "system_prompt": "Be short."},
                          headers=admin_headers)  # fmt: skip
    assert created.status_code == 201, created.json
    model = client.get("/api/models", headers=user).json["items"][0]
    lines = [
        {"custom_id": "plain", "prompt": "hi"},
        {"custom_id": "own", "prompt": "hi", "max_tokens": 9, "template": None, "seed": 1},
    ]
    answer = client.post(
        "/api/batches",
        data="\n".join(json.dumps(line) for line in lines).encode(),
        query_string={"name": "defaults", "template": name, "model": model, "max_tokens": 5,
                      "temperature": 0.5, "top_p": 0.9, "seed": 42},
        headers={**user, "Content-Type": "application/jsonl"},
    )  # fmt: skip
    assert answer.status_code == 202, answer.json
    with idle_app.extensions["queuechat"].db.session() as db:
        items = db.scalars(
            select(BatchItem).where(BatchItem.batch_id == answer.json["id"])
        ).all()
        stored = {item.custom_id: item.request for item in items}
    assert stored["plain"]["template"] == name
    assert stored["plain"]["sampling"] == {"max_tokens": 5, "temperature": 0.5, "top_p": 0.9,
                                           "seed": 42}  # fmt: skip
    assert stored["own"]["template"] is None  # the line said so
    assert (stored["own"]["sampling"]["max_tokens"], stored["own"]["sampling"]["seed"]) == (9, 1)


def test_unknown_model_or_template_and_bad_sampling_are_refused(idle_app: Flask) -> None:
    client = idle_app.test_client()
    user = register_and_login(client)
    data = b'{"custom_id": "a", "prompt": "hi"}\n'
    for query, words in (
        ({"model": "gpt-9"}, "unknown model"),
        ({"template": f"nope-{uuid.uuid4().hex[:6]}"}, "unknown or inactive template"),
        ({"temperature": -1}, "query string is invalid"),
        ({"max_tokens": 10**9}, "over the limit"),
    ):
        answer = client.post("/api/batches", data=data, query_string=query,
                             headers={**user, "Content-Type": "application/jsonl"})  # fmt: skip
        assert answer.status_code == 422, (query, answer.json)
        said = answer.json["error"]["message"] + json.dumps(answer.json["error"].get("details"))
        assert words in said, answer.json
    assert client.get("/api/batches", headers=user).json["items"] == []
