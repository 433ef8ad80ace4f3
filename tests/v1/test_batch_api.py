"""The Batch API and its files with the official openai client, end to end: a real server, real
inference and ingest workers, the real models, the batch queue underneath."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import openai
import pytest
from flask.testing import FlaskClient
from openai.types import Batch

from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess
from tests.v1.test_openai_client import create_key

TERMINAL = {"completed", "failed", "expired", "cancelled"}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def chat_line(custom_id: str, settings: Settings, text: str, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": settings.served_model_name,
                 "messages": [{"role": "user", "content": text}], **body},
    }  # fmt: skip


def wait_for(api: openai.OpenAI, batch_id: str, statuses: set[str], timeout: float = 240) -> Batch:
    deadline = time.monotonic() + timeout
    while True:
        batch = api.batches.retrieve(batch_id)
        if batch.status in statuses:
            return batch
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {batch_id} still {batch.status}")
        time.sleep(0.3)


def lines_of(api: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(line) for line in api.files.content(file_id).text.splitlines()]


@pytest.fixture()
def key(client: FlaskClient, auth_headers: dict[str, str]) -> str:
    return create_key(client, auth_headers)


@pytest.fixture()
def api(key: str, live_server: LiveServer, celery_worker: WorkerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)


@pytest.fixture()
def stranger(
    client: FlaskClient, other_headers: dict[str, str], live_server: LiveServer
) -> openai.OpenAI:
    key = create_key(client, other_headers, "stranger")
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)


def test_files_upload_list_retrieve_content_delete(
    api: openai.OpenAI, stranger: openai.OpenAI, settings: Settings
) -> None:
    data = jsonl([chat_line("a", settings, "hi", max_tokens=2)])
    uploaded = api.files.create(file=("requests.jsonl", data), purpose="batch")
    assert uploaded.id.startswith("file-") and uploaded.object == "file"
    assert (uploaded.bytes, uploaded.filename, uploaded.purpose) == (
        len(data), "requests.jsonl", "batch")  # fmt: skip
    second = api.files.create(file=("more.jsonl", data), purpose="batch")
    listed = [f.id for f in api.files.list()]
    assert listed[:2] == [second.id, uploaded.id]  # newest first
    assert [f.id for f in api.files.list(order="asc")][-2:] == [uploaded.id, second.id]
    page = api.files.list(limit=1)
    assert [f.id for f in page.data] == [second.id] and page.has_more
    assert [f.id for f in api.files.list(limit=1, after=second.id).data] == [uploaded.id]
    assert api.files.retrieve(uploaded.id).filename == "requests.jsonl"
    assert api.files.content(uploaded.id).content == data
    # another key: the same 404 as a file that never was; its list is empty
    for call in (stranger.files.retrieve, stranger.files.content, stranger.files.delete):
        with pytest.raises(openai.NotFoundError, match="file not found"):
            call(uploaded.id)
    assert list(stranger.files.list()) == []
    deleted = api.files.delete(uploaded.id)
    assert (deleted.id, deleted.deleted) == (uploaded.id, True)
    with pytest.raises(openai.NotFoundError):
        api.files.retrieve(uploaded.id)
    assert [f.id for f in api.files.list()] == [second.id]


def test_chat_batch_completes_with_output_and_error_files(
    api: openai.OpenAI, stranger: openai.OpenAI, settings: Settings
) -> None:
    lines = [
        chat_line("count", settings, "Count from 1 to 5.", max_tokens=4, temperature=0),
        chat_line("too-long", settings, "Hello there", max_tokens=settings.n_ctx),
        chat_line(
            "stop", settings, "Count from 1 to 5.", max_tokens=24, temperature=0, stop=["3"]
        ),  # fmt: skip
    ]
    source = api.files.create(file=("chat.jsonl", jsonl(lines)), purpose="batch")
    created = api.batches.create(
        input_file_id=source.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"project": "tests"},
    )
    assert created.status == "in_progress" and created.id.startswith("batch_")
    assert created.request_counts is not None and created.request_counts.total == 3
    assert created.expires_at == created.created_at + 24 * 3600
    with pytest.raises(openai.NotFoundError):
        stranger.batches.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):  # another's file cannot feed a batch
        stranger.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions",
                                completion_window="24h")  # fmt: skip
    done = wait_for(api, created.id, TERMINAL)
    assert done.status == "completed", done
    assert done.metadata == {"project": "tests"}
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    assert done.completed_at and done.completed_at >= done.created_at
    assert done.usage is not None and done.usage.output_tokens > 0
    output = {line["custom_id"]: line for line in lines_of(api, done.output_file_id)}
    assert sorted(output) == ["count", "stop"]
    count = output["count"]["response"]
    assert count["status_code"] == 200 and output["count"]["error"] is None
    body = count["body"]
    assert body["object"] == "chat.completion" and body["model"] == settings.served_model_name
    assert body["choices"][0]["message"]["content"] and body["usage"]["completion_tokens"] == 4
    assert body["choices"][0]["finish_reason"] == "length"
    stop = output["stop"]["response"]["body"]["choices"][0]
    assert "3" not in stop["message"]["content"]
    assert stop["finish_reason"] == "stop"
    (error,) = lines_of(api, done.error_file_id)
    assert error["custom_id"] == "too-long" and error["response"]["status_code"] == 400
    assert "context window" in error["response"]["body"]["error"]["message"]
    assert api.files.retrieve(done.output_file_id or "").purpose == "batch_output"
    with pytest.raises(openai.NotFoundError):
        stranger.files.content(done.output_file_id or "")
    assert created.id in [b.id for b in api.batches.list()]
    assert list(stranger.batches.list()) == []
    with pytest.raises(openai.ConflictError, match="already done"):
        api.batches.cancel(created.id)


def test_completions_and_embeddings_batches(
    api: openai.OpenAI, settings: Settings, ingest_worker: WorkerProcess
) -> None:
    prompts = {"p1": "1, 2, 3,", "p2": "a, b, c,"}
    text_lines = [
        {"custom_id": cid, "method": "POST", "url": "/v1/completions",
         "body": {"model": settings.served_model_name, "prompt": prompt, "max_tokens": 3,
                  "temperature": 0}}
        for cid, prompt in prompts.items()
    ]  # fmt: skip
    text_file = api.files.create(file=("text.jsonl", jsonl(text_lines)), purpose="batch")
    text_batch = api.batches.create(
        input_file_id=text_file.id, endpoint="/v1/completions", completion_window="24h"
    )
    embedding_model = next(m.id for m in api.models.list() if "MiniLM" in m.id)
    texts = ["a small cat sleeps", "the stock market fell"]
    embed_lines = [
        {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings",
         "body": {"model": embedding_model, "input": texts}},
        {"custom_id": "e2", "method": "POST", "url": "/v1/embeddings",
         "body": {"model": embedding_model, "input": texts[0], "encoding_format": "float"}},
    ]  # fmt: skip
    embed_file = api.files.create(file=("embed.jsonl", jsonl(embed_lines)), purpose="batch")
    embed_batch = api.batches.create(
        input_file_id=embed_file.id, endpoint="/v1/embeddings", completion_window="24h"
    )
    text_done = wait_for(api, text_batch.id, TERMINAL)
    assert text_done.status == "completed" and text_done.error_file_id is None
    for line in lines_of(api, text_done.output_file_id):
        body = line["response"]["body"]
        assert body["object"] == "text_completion"
        live = api.completions.create(model=settings.served_model_name,
                                      prompt=prompts[line["custom_id"]], max_tokens=3,
                                      temperature=0)  # fmt: skip
        assert body["choices"][0]["text"] == live.choices[0].text
        assert body["usage"]["prompt_tokens"] == (live.usage.prompt_tokens if live.usage else -1)
    embed_done = wait_for(api, embed_batch.id, TERMINAL)
    assert embed_done.status == "completed", embed_done
    results = {line["custom_id"]: line["response"]["body"]
               for line in lines_of(api, embed_done.output_file_id)}  # fmt: skip
    vectors = [d["embedding"] for d in results["e1"]["data"]]
    assert [len(v) for v in vectors] == [384, 384]
    live = api.embeddings.create(model=embedding_model, input=texts[0]).data[0].embedding
    cosine = math.fsum(a * b for a, b in zip(vectors[0], live, strict=True))
    assert math.isclose(cosine, 1.0, rel_tol=1e-4)
    alone = results["e2"]["data"][0]["embedding"]  # one text alone: padded otherwise
    assert math.isclose(math.fsum(a * b for a, b in zip(alone, vectors[0], strict=True)), 1.0,
                        rel_tol=1e-4)  # fmt: skip
    assert results["e1"]["usage"]["prompt_tokens"] > results["e2"]["usage"]["prompt_tokens"]


def test_cancel_keeps_what_finished_and_drops_the_rest(
    api: openai.OpenAI, settings: Settings
) -> None:
    # more lines than the worker has places: the cancel finds most of them still queued
    lines = [chat_line(f"n{i}", settings, f"Say {i}.", max_tokens=4) for i in range(12)]
    source = api.files.create(file=("many.jsonl", jsonl(lines)), purpose="batch")
    batch = api.batches.create(
        input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    cancelling = api.batches.cancel(batch.id)
    assert cancelling.status in ("cancelling", "cancelled")
    assert cancelling.cancelling_at is not None
    done = wait_for(api, batch.id, TERMINAL)
    assert done.status == "cancelled" and done.cancelled_at is not None
    counts = done.request_counts
    assert counts is not None and counts.total == 12 and counts.failed > 0
    finished = lines_of(api, done.output_file_id) if done.output_file_id else []
    dropped = lines_of(api, done.error_file_id)
    assert len(finished) == counts.completed and len(dropped) == counts.failed
    assert {line["error"]["code"] for line in dropped} == {"batch_cancelled"}
    assert all(line["response"] is None for line in dropped)
    ids = [line["custom_id"] for line in finished + dropped]
    assert sorted(ids) == sorted(f"n{i}" for i in range(12))
    with pytest.raises(openai.ConflictError):
        api.batches.cancel(batch.id)


def test_a_file_that_does_not_validate_is_a_failed_batch(
    api: openai.OpenAI, settings: Settings
) -> None:
    good = chat_line("ok", settings, "hi", max_tokens=2)
    data = b"\n".join(
        [
            json.dumps(good).encode(),
            b"{not json",
            json.dumps({**good, "custom_id": "ok"}).encode(),  # repeats line 1's custom_id
            json.dumps({**good, "custom_id": "url", "url": "/v1/completions"}).encode(),
            json.dumps(chat_line("n", settings, "hi", n=3, logprobs=True)).encode(),
            json.dumps(chat_line("tools", settings, "hi", audio={"voice": "x"})).encode(),
            json.dumps({**chat_line("m", settings, "hi"), "body": {"model": "gpt-9",
                       "messages": [{"role": "user", "content": "hi"}]}}).encode(),
        ]
    )  # fmt: skip
    source = api.files.create(file=("bad.jsonl", data), purpose="batch")
    batch = api.batches.create(
        input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "failed" and batch.failed_at is not None
    assert batch.request_counts is not None and batch.request_counts.total == 0
    assert batch.errors is not None and batch.errors.data is not None
    found = {(e.line, e.code, e.param) for e in batch.errors.data}
    assert (2, "invalid_json_line", None) in found
    assert (3, "duplicate_custom_id", "custom_id") in found
    assert (4, "mismatched_endpoint", "url") in found
    assert (6, "unsupported_parameter", "body.audio") in found
    assert (7, "model_not_found", None) in found
    assert any(line == 5 for line, _, _ in found)
    assert batch.output_file_id is None and batch.error_file_id is None


def test_refusals_name_the_parameter(api: openai.OpenAI, settings: Settings) -> None:
    source = api.files.create(
        file=("one.jsonl", jsonl([chat_line("a", settings, "hi", max_tokens=2)])), purpose="batch"
    )
    refused: list[tuple[Any, str]] = [
        (lambda: api.files.create(file=("x.jsonl", b"{}"), purpose="fine-tune"), "purpose"),
        (lambda: api.files.create(file=("x.jsonl", b"{}"), purpose="batch",
                                  expires_after={"anchor": "created_at", "seconds": 3600}),
         "expires_after"),
        (lambda: api.batches.create(input_file_id=source.id, endpoint="/v1/responses",
                                    completion_window="24h"), "endpoint"),
        (lambda: api.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions",
                                    completion_window="1h"), "completion_window"),  # type: ignore[arg-type]
        (lambda: api.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions",
                                    completion_window="24h",
                                    output_expires_after={"anchor": "created_at",
                                                          "seconds": 3600}),
         "output_expires_after"),
    ]  # fmt: skip
    for call, param in refused:
        with pytest.raises(openai.BadRequestError) as error:
            call()
        assert error.value.param == param, error.value.message
        assert error.value.code == "unsupported_parameter"
    assert [f.id for f in api.files.list()] == [source.id]  # nothing refused was stored
    assert list(api.batches.list()) == []
