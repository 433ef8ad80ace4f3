"""Files in a chat, in the browser: a file chosen in a new chat goes with its first question,
the reply waits while it is read and cites it; a file attached to a chat shows its reading
progress and can be removed before it is sent."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import WorkerProcess
from tests.e2e.conftest import log_in, screenshot


def test_a_file_sent_with_a_question_is_read_and_cited(
    page: Page,
    client: FlaskClient,
    account: dict[str, str],
    ingest_worker: WorkerProcess,
    celery_worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    code = uuid.uuid4().hex[:6].upper()
    notes = tmp_path / "storeroom.md"
    notes.write_text(f"# Storeroom\nThe access code of the Harlow storeroom is {code}.\n")
    log_in(page, account["X-Username"], max_tokens=24)
    page.get_by_test_id("attach-input").set_input_files(str(notes))
    expect(page.get_by_test_id("picked-files")).to_contain_text("storeroom.md · to send")
    box = page.get_by_label("Message")
    box.fill("What is the access code of the Harlow storeroom?")
    box.press("Enter")
    reply = page.locator(".assistant-message").last
    expect(reply).to_have_attribute("data-status", "done", timeout=120_000)
    expect(page.get_by_test_id("sent-files")).to_have_text("storeroom")
    expect(page.get_by_test_id("picked-files")).to_have_count(0)  # sent with the question
    chip = reply.locator(".citation").first
    expect(chip).to_contain_text("storeroom")
    chip.click()
    expect(page.get_by_role("dialog", name="Source")).to_contain_text(code)
    page.keyboard.press("Escape")
    screenshot(page, "chat-file-1440")

    chat = client.get("/api/sessions", headers=account).json["items"][0]["id"]  # type: ignore[index]
    # a file attached to the chat now: its chip, then removed before it is sent
    other = tmp_path / "draft.txt"
    other.write_text("A draft that is not sent.")
    page.get_by_test_id("attach-input").set_input_files(str(other))
    expect(page.get_by_test_id("picked-files")).to_contain_text("draft.txt")
    expect(page.get_by_test_id("picked-files").locator("[data-status=ready]")).to_have_count(
        1, timeout=60_000
    )
    page.get_by_test_id("picked-files").locator(".MuiChip-deleteIcon").click()
    expect(page.get_by_test_id("picked-files")).to_have_count(0)
    files = client.get(f"/api/sessions/{chat}/files", headers=account).json["items"]  # type: ignore[index]
    assert [(f["original_name"], f["message_id"] is not None) for f in files] == [
        ("storeroom.md", True)
    ]
