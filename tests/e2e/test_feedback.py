"""Feedback in the browser: thumbs down with a comment on a real reply, then the admin view
filters it and exports it as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import WorkerProcess
from tests.e2e.conftest import log_in, promote, screenshot


def test_rate_a_reply_and_find_it_in_the_admin_view(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    celery_worker: WorkerProcess,
) -> None:
    log_in(page, account["X-Username"], max_tokens=8)
    box = page.get_by_label("Message")
    box.fill("Name a colour.")
    box.press("Enter")
    reply = page.locator('.assistant-message[data-status="done"]').last
    expect(reply).to_be_visible(timeout=120_000)
    reply.get_by_role("button", name="Bad reply").click()
    reply.get_by_label("Comment (optional)").fill("Too vague")
    reply.get_by_role("button", name="Send").click()
    expect(reply.get_by_role("button", name="Bad reply")).to_have_attribute("aria-pressed", "true")
    expect(reply.get_by_label("Comment (optional)")).to_have_count(0)
    page.reload()  # stored, not only shown
    reply = page.locator(".assistant-message").last
    expect(reply.get_by_role("button", name="Bad reply")).to_have_attribute("aria-pressed", "true")
    good = reply.get_by_role("button", name="Good reply")
    expect(good).to_have_attribute("aria-pressed", "false")

    promote(app, account["X-Username"])
    page.goto("/admin/feedback")
    page.get_by_role("combobox", name="Rating").click()
    page.get_by_role("option", name="bad").click()
    row = page.get_by_role("row").filter(has_text="Too vague")
    expect(row).to_contain_text(account["X-Username"])
    page.get_by_role("combobox", name="Rating").click()
    page.get_by_role("option", name="good").click()
    expect(page.get_by_role("row").filter(has_text="Too vague")).to_have_count(0)
    page.get_by_role("combobox", name="Rating").click()
    page.get_by_role("option", name="bad").click()
    screenshot(page, "admin-feedback-1280")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    mine = [r for r in rows if r["username"] == account["X-Username"]]
    assert [(r["rating"], r["comment"], r["question"]) for r in mine] == [
        ("down", "Too vague", "Name a colour.")
    ]
    assert all(r["rating"] == "down" for r in rows)  # the export keeps the filter
