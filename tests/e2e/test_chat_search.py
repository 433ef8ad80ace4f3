"""Finding a message in the browser: the sidebar's search over every chat's messages opens the
chat at the message found; pinned chats stay on top under "Pinned"."""

from __future__ import annotations

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import wait_until
from tests.e2e.conftest import log_in


def imported(client: FlaskClient, account: dict[str, str], title: str, *texts: str) -> int:
    messages = [{"role": "user" if n % 2 == 0 else "assistant", "content": text}
                for n, text in enumerate(texts)]  # fmt: skip
    body = {"format": "queuechat.chat", "version": 1, "title": title, "messages": messages}
    made = client.post("/api/sessions/import", json=body, headers=account)
    assert made.status_code == 201, made.json
    return int(made.json["items"][0]["id"])  # type: ignore[index]


def status_of(client: FlaskClient, account: dict[str, str], chat: int, message: int) -> str:
    listed = client.get(f"/api/sessions/{chat}/messages?limit=100", headers=account).json
    return str(next(m["status"] for m in listed["items"] if m["id"] == message))  # type: ignore[index]


def test_a_message_found_in_the_sidebar_opens_its_chat_at_the_message(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    filler = [f"Question {n} about lunch menus" if n % 2 == 0 else f"Answer {n}: soup and bread "
              * 8 for n in range(40)]  # fmt: skip
    reading = imported(client, account, "Reading list", "Which animal <b>smiles</b>?",
                       "The quokka, a small marsupial, seems to smile.", *filler)  # fmt: skip
    imported(client, account, "Groceries", "Buy bread and soup")
    log_in(page, account["X-Username"])
    page.get_by_role("navigation", name="Chats").get_by_text("Groceries").click()

    page.get_by_label("Search chats").fill("quok marsup")
    hit = page.get_by_test_id("message-hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("Reply in Reading list")
    expect(hit.locator("mark")).to_have_text(["quokka", "marsupial"])
    hit.click()

    stored = client.get(f"/api/sessions/{reading}/messages?limit=100", headers=account).json
    answer = next(m["id"] for m in stored["items"] if "quokka" in m["content"])  # type: ignore[index]
    expect(page).to_have_url(f"/c/{reading}?m={answer}")
    found = page.locator(f"[data-message-id='{answer}']")
    expect(found).to_have_attribute("data-found", "true")
    expect(found).to_be_in_viewport()  # scrolled up to it, not left at the bottom of 42 messages
    expect(page.locator("[data-role=user]").first).to_have_text("Which animal <b>smiles</b>?")

    page.get_by_label("Search chats").fill("smiles")
    expect(page.get_by_test_id("message-hit").locator("mark")).to_have_text(["smiles"])
    page.get_by_label("Search chats").fill("zebra")
    expect(page.get_by_text("No message holds these words.")).to_be_visible()


def test_a_message_found_in_another_version_shows_that_version(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    chat = imported(client, account, "Zoo", "Which animal is tallest?", "The giraffe.")
    first = client.get(f"/api/sessions/{chat}/messages", headers=account).json["items"][0]  # type: ignore[index]
    edit = {"content": "Which animal is slowest?"}
    edited = client.post(f"/api/messages/{first['id']}/edit", json=edit, headers=account).json
    assert edited is not None, "the edit was refused"
    reply = edited["assistant_message_id"]
    client.post(f"/api/messages/{reply}/cancel", headers=account)
    # A worker may have started the reply: Stop is then "cancelling" until the worker ends it.
    wait_until(lambda: status_of(client, account, chat, reply) not in ("queued", "generating"),
               timeout=30,
               what="the cancelled reply")  # fmt: skip
    shown = client.post(f"/api/messages/{first['id']}/show", headers=account)  # back to version 1
    assert shown.status_code == 200, shown.json

    log_in(page, account["X-Username"])
    page.get_by_label("Search chats").fill("slowest")
    page.get_by_test_id("message-hit").click()
    question = edited["user_message_id"]
    expect(page).to_have_url(f"/c/{chat}?m={question}")
    expect(page.locator("[data-role=user]")).to_have_text(["Which animal is slowest?"])
    expect(page.locator(f"[data-message-id='{question}']")).to_have_attribute("data-found", "true")
    expect(page.get_by_test_id("versions")).to_have_text(["2/2"])


def test_a_pinned_chat_stays_on_top(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    imported(client, account, "Handbook", "Where is the handbook?")
    imported(client, account, "Standup notes", "Notes of today")
    log_in(page, account["X-Username"])
    nav = page.get_by_role("navigation", name="Chats")
    expect(nav.locator("li[data-pinned]")).to_have_count(0)
    nav.get_by_role("button", name="Options for Handbook").click()
    page.get_by_role("menuitem", name="Pin").click()
    expect(nav.locator(".MuiListSubheader-root")).to_have_text(["Pinned", "Today"])
    expect(nav.locator("li[data-pinned]")).to_have_text(["Handbook"])
    page.reload()
    expect(nav.locator(".MuiListSubheader-root")).to_have_text(["Pinned", "Today"])
    expect(nav.locator("li[data-pinned]")).to_have_text(["Handbook"])
    nav.get_by_role("button", name="Options for Handbook").click()
    page.get_by_role("menuitem", name="Unpin").click()
    expect(nav.locator(".MuiListSubheader-root")).to_have_text(["Today"])
