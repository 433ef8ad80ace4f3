"""Batch jobs in the browser: upload a JSONL file with a template, model and sampling chosen
in the form, watch it finish without reloading, download its results; cancel a queued batch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect

from app import create_app
from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess
from tests.conftest import isolated_settings
from tests.e2e.conftest import log_in, screenshot


def batch_file(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "questions.jsonl"
    rows = [{"custom_id": f"q{n}", "prompt": f"Say the number {n}."} for n in range(1, lines + 1)]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return path


def open_batches(page: Page, username: str) -> None:
    log_in(page, username)
    page.get_by_role("link", name="Workspace").click()
    page.get_by_role("tab", name="Batch jobs").click()


def test_submit_watch_and_download_a_batch(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    admin_headers: dict[str, str],
    celery_worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    template = f"Terse {uuid.uuid4().hex[:6]}"
    client.post("/api/templates", json={"name": template, "system_prompt": "Answer in one word."},
                headers=admin_headers)  # fmt: skip
    open_batches(page, account["X-Username"])
    page.get_by_label("JSONL file").set_input_files(str(batch_file(tmp_path, 3)))
    page.get_by_label("Batch name").fill("numbers")
    page.get_by_label("Template").click()
    page.get_by_role("option", name=template).click()
    model = client.get("/api/models", headers=account).json["items"][0]  # type: ignore[index]
    page.get_by_label("Model").click()
    page.get_by_role("option", name=model).click()
    page.get_by_label("Max tokens").fill("4")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Submit batch").click()
    card = page.locator('[data-batch-name="numbers"]')
    expect(card).to_be_visible()
    # no reload: the page follows the batch until it is done
    expect(card.get_by_test_id("batch-status")).to_have_text("done", timeout=180_000)
    expect(card.get_by_test_id("batch-counts")).to_contain_text("3 / 3 finished · 3 done")
    screenshot(page, "workspace-batches-1280")
    with page.expect_download() as download:
        card.get_by_role("button", name="Download results").click()
    lines = [json.loads(x) for x in Path(download.value.path()).read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == ["q1", "q2", "q3"]
    assert all(line["status"] == "done" and line["usage"]["completion_tokens"] <= 4
               for line in lines)  # fmt: skip

    batches = client.get("/api/batches", headers=account).json["items"]  # type: ignore[index]
    assert [(b["name"], b["total"]) for b in batches] == [("numbers", 3)]


@pytest.fixture()
def idle_server(settings: Settings) -> Iterator[LiveServer]:
    """The app on a queue no worker reads: a batch stays queued until it is cancelled."""
    flask_app = create_app(isolated_settings(settings, 12))
    server = LiveServer(flask_app)
    yield server
    server.stop()
    flask_app.extensions["queuechat"].db.dispose()


def test_cancel_a_queued_batch_and_see_a_bad_file_refused(
    browser: Browser, idle_server: LiveServer, app: Flask, client: FlaskClient,
    account: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    context = browser.new_context(base_url=idle_server.url)
    page = context.new_page()
    open_batches(page, account["X-Username"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a", "prompt": "hi"}\n{"custom_id": "b"}\n')
    page.get_by_label("JSONL file").set_input_files(str(bad))
    page.get_by_role("button", name="Submit batch").click()
    expect(page.get_by_role("alert")).to_contain_text("line(s) 2")
    page.get_by_label("JSONL file").set_input_files(str(batch_file(tmp_path, 5)))
    page.get_by_label("Batch name").fill("to cancel")
    page.get_by_role("button", name="Submit batch").click()
    card = page.locator('[data-batch-name="to cancel"]')
    expect(card.get_by_test_id("batch-status")).to_have_text("queued")
    card.get_by_role("button", name="Cancel").click()
    expect(card.get_by_test_id("batch-status")).to_have_text("cancelled")
    expect(card.get_by_test_id("batch-counts")).to_contain_text("5 cancelled")
    context.close()
    batches = client.get("/api/batches", headers=account).json["items"]  # type: ignore[index]
    assert [(b["name"], b["status"], b["counts"]["cancelled"]) for b in batches] == [
        ("to cancel", "cancelled", 5)
    ]


