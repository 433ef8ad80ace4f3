"""Sharing a chat in the browser: the owner makes a read-only link; a colleague who opens it is
asked to sign in, lands on the chat as it was when shared, and loses it when it is revoked."""

from __future__ import annotations

from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect

from testkit.processes import LiveServer
from tests.conftest import register_and_login
from tests.e2e.conftest import PASSWORD, log_in
from tests.e2e.test_chat_search import imported


def test_a_colleague_reads_a_shared_chat_until_it_is_revoked(
    page: Page, browser: Browser, live_server: LiveServer, client: FlaskClient,
    account: dict[str, str],
) -> None:  # fmt: skip
    imported(client, account, "Onboarding", "Where do I park?", "Level -2, any **free** spot.")
    log_in(page, account["X-Username"])
    nav = page.get_by_role("navigation", name="Chats")
    nav.get_by_role("button", name="Options for Onboarding").click()
    page.get_by_role("menuitem", name="Share link…").click()
    dialog = page.get_by_role("dialog", name="Share “Onboarding”")
    expect(dialog).to_contain_text("No links yet.")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_test_id("share-links").locator("li")
    expect(link).to_have_count(1)
    expect(link).to_contain_text("2 messages")
    token = link.get_attribute("data-token")
    assert token and len(token) >= 32

    colleague = register_and_login(client, password=PASSWORD)
    context = browser.new_context(base_url=live_server.url)
    other = context.new_page()
    other.goto(f"/s/{token}")  # signed out: the sign-in comes first, then the link
    other.get_by_label("Username").fill(colleague["X-Username"])
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Log in").click()
    expect(other).to_have_url(f"{live_server.url}/s/{token}")
    expect(other.get_by_test_id("shared-by")).to_contain_text(f"Shared by {account['X-Username']}")
    expect(other.locator("[data-role=user]")).to_have_text(["Where do I park?"])
    expect(other.locator("[data-role=assistant] strong")).to_have_text("free")  # markdown

    link.get_by_role("button", name="Revoke").click()
    expect(dialog).to_contain_text("No links yet.")
    other.reload()
    expect(other.get_by_role("alert")).to_contain_text("no chat is shared at this link")
    context.close()
