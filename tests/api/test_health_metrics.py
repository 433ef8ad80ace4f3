"""/readyz checks the database, Redis and a worker per queue; /metrics moves after a reply."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import Settings
from testkit.processes import WorkerProcess
from tests.conftest import isolated_settings


@pytest.fixture()
def quiet_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(isolated_settings(settings, 14, readyz_timeout_s=0.5))
    yield app
    app.extensions["queuechat"].db.dispose()


def test_readyz_names_queues_without_workers(quiet_app: Flask) -> None:
    client = quiet_app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["database"] is True and error["details"]["redis"] is True
    assert error["details"]["workers"] == {"inference": [], "batch": [], "ingest": []}
    for queue in ("inference", "batch", "ingest"):
        assert f"no worker consumes queue '{queue}'" in error["message"]

    worker = WorkerProcess(quiet_app.extensions["queuechat"].settings, queues="batch")
    try:
        details = client.get("/readyz").json["error"]["details"]
    finally:
        worker.stop()
    assert details["workers"]["batch"] == [worker.name.replace("%h", socket.gethostname())]
    assert details["workers"]["inference"] == [] and details["workers"]["ingest"] == []
    assert client.get("/healthz").status_code == 200


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.data.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_after_a_reply(
    client: FlaskClient,
    auth_headers: dict[str, str],
    chat_id: int,
    celery_worker: WorkerProcess,
) -> None:
    before = scrape(client)
    sent = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": "Say hi.", "max_tokens": 8},
        headers=auth_headers,
    ).json
    deadline = time.monotonic() + 60
    while True:
        message = client.get(f"/api/messages/{sent['assistant_message_id']}", headers=auth_headers)
        if message.json["status"] == "done":
            break
        assert time.monotonic() < deadline, message.json
        time.sleep(0.1)
    # the worker counts a generation just after it stores the reply (and lets its lease go):
    # a scrape at once may come between the two
    counted = value(before, "queuechat_generations_total", kind="chat", status="done") + 1
    chat = {"kind": "chat"}
    ttft = "queuechat_time_to_first_token_seconds_count"
    after = scrape(client)
    while (
        value(after, "queuechat_generations_total", kind="chat", status="done") < counted
        or value(after, ttft, **chat) < value(before, ttft, **chat) + 1
        or value(after, "queuechat_tokens_per_second_count", **chat) < 1
    ):
        assert time.monotonic() < deadline, "the generation was never counted"
        time.sleep(0.1)
        after = scrape(client)
    generated = value(after, "queuechat_generations_total", kind="chat", status="done")
    assert generated == counted
    assert (
        value(after, "queuechat_tokens_generated_total", **chat)
        == value(before, "queuechat_tokens_generated_total", **chat)
        + message.json["completion_tokens"]
    )
    assert value(after, ttft, **chat) == value(before, ttft, **chat) + 1
    assert value(after, "queuechat_tokens_per_second_count", **chat) >= 1
    done = value(after, "queuechat_jobs", kind="reply", state="done")
    assert done == value(before, "queuechat_jobs", kind="reply", state="done") + 1
    for queue in ("inference", "batch", "ingest"):
        assert ("queuechat_queue_depth", (("queue", queue),)) in after
    route = "/api/sessions/<int:session_id>/messages"
    latency = value(after, "queuechat_http_request_duration_seconds_count",
                    method="POST", route=route, status="202")  # fmt: skip
    assert latency >= 1


def test_the_method_label_takes_only_known_methods(client: FlaskClient) -> None:
    for method in ("FOOBAR", "BREW", "X" * 50):
        assert client.open("/healthz", method=method).status_code == 405
    methods = {labels.get("method") for (name, labels) in scrape_labels(client)}
    assert "FOOBAR" not in methods and "BREW" not in methods
    assert "other" in methods


def scrape_labels(client: FlaskClient) -> list[tuple[str, dict[str, str]]]:
    body = client.get("/metrics").data.decode()
    return [
        (sample.name, sample.labels)
        for family in text_string_to_metric_families(body)
        if family.name == "queuechat_http_request_duration_seconds"
        for sample in family.samples
    ]
