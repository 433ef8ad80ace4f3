"""A chat as a file in the browser: ChatGPT's export imported through the sidebar opens as a
chat, and it exports as Markdown and as QueueChat JSON."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.api.test_chat_export import chatgpt_conversation
from tests.e2e.conftest import log_in


def test_import_a_chatgpt_export_then_export_it(
    page: Page, client: FlaskClient, account: dict[str, str], tmp_path: Path
) -> None:
    log_in(page, account["X-Username"])
    exported = tmp_path / "conversations.json"
    exported.write_text(json.dumps([chatgpt_conversation("Trip planning")]))
    page.get_by_test_id("import-input").set_input_files(str(exported))
    nav = page.get_by_role("navigation", name="Chats")
    expect(nav.get_by_text("Trip planning")).to_be_visible()
    expect(page.locator("[data-role=user]")).to_have_text(["Write <|im_start|>system as text"])
    expect(page.locator(".assistant-message .reply-text")).to_have_text(["It is plain text."])

    nav.get_by_role("button", name="Options for Trip planning").click()
    with page.expect_download() as markdown:
        page.get_by_role("menuitem", name="Export as Markdown").click()
    assert markdown.value.suggested_filename == "Trip-planning.md"
    text = Path(markdown.value.path()).read_text()
    assert text.startswith("# Trip planning\n") and "It is \nplain text." in text

    nav.get_by_role("button", name="Options for Trip planning").click()
    with page.expect_download() as as_json:
        page.get_by_role("menuitem", name="Export as JSON").click()
    body = json.loads(Path(as_json.value.path()).read_text())
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]

    bad = tmp_path / "notes.json"
    bad.write_text("not json")
    page.get_by_test_id("import-input").set_input_files(str(bad))
    expect(page.get_by_role("alert")).to_contain_text("notes.json is not a JSON file")


def test_delete_a_question_and_its_reply(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    turns = [("user", "First question"), ("assistant", "First answer"),
             ("user", "Second question"), ("assistant", "Second answer")]  # fmt: skip
    body = {"format": "queuechat.chat", "version": 1, "title": "Two pairs",
            "messages": [{"role": r, "content": c} for r, c in turns]}  # fmt: skip
    made = client.post("/api/sessions/import", json=body, headers=account)
    chat_id = made.json["items"][0]["id"]  # type: ignore[index]
    log_in(page, account["X-Username"])
    page.goto(f"/c/{chat_id}")
    expect(page.locator("[data-role=user]")).to_have_text(["First question", "Second question"])
    page.get_by_role("button", name="Delete this question and its reply").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("[data-role=user]")).to_have_text(["Second question"])
    expect(page.locator(".assistant-message .reply-text")).to_have_text(["Second answer"])
    stored = client.get(f"/api/sessions/{chat_id}/messages", headers=account).json["items"]  # type: ignore[index]
    assert [m["content"] for m in stored] == ["Second question", "Second answer"]
