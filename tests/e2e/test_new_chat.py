"""A new chat in the browser: "New chat" makes nothing on the server; the chat is made, with the
settings chosen before it, when its first message is accepted."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_a_chat_is_made_by_its_first_message_not_by_new_chat(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    log_in(page, account["X-Username"], max_tokens=4)
    for _ in range(3):
        page.get_by_role("button", name="New chat").click()
    expect(page.get_by_text("Start a new chat")).to_be_visible()
    page.get_by_role("switch", name="Knowledge base").click()
    expect(page.get_by_role("switch", name="Knowledge base")).to_be_checked()
    assert client.get("/api/sessions", headers=account).json["total"] == 0  # type: ignore[index]

    box = page.get_by_label("Message")
    box.fill("Say one word")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    chats = client.get("/api/sessions", headers=account).json["items"]  # type: ignore[index]
    assert [(c["title"], c["use_knowledge_base"]) for c in chats] == [("Say one word", True)]
    nav = page.get_by_role("navigation", name="Chats")
    expect(nav.get_by_role("button", name="Say one word", exact=True)).to_be_visible()
    reply = page.locator(".assistant-message").last
    client.post(f"/api/messages/{reply.get_attribute('data-message-id')}/cancel", headers=account)
