"""Rendering in a real Chromium: sanitized markdown, and the layouts at phone, tablet, desktop."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.enums import MessageRole, MessageStatus
from app.models import ChatSession, Message, User
from app.schemas.messages import MessageOut
from testkit.processes import WorkerProcess
from tests.e2e.conftest import log_in, promote, screenshot
from tests.rag.helpers import upload

HOSTILE_REPLY = """Here is a **sorted** list and some code:

1. first item
2. second item with `inline code`

```python
def add(a: int, b: int) -> int:
    \"\"\"Adds two numbers.\"\"\"
    return a + b
```

<img src="x" onerror="window.__pwned = 1">

<script>window.__pwned = 2</script>

Links: [click me](javascript:window.__pwned=3) and [data link](data:text/html,<b>x</b>)
and a [real link](https://example.org/docs).

| name | value |
| --- | --- |
| alpha | 1 |
"""
CITATIONS: list[dict[str, Any]] = [
    {"document_id": 1, "title": "Operations handbook", "page": 4, "heading": "Queues",
     "chunk_index": 2, "snippet": "Interactive replies always go first.", "score": 0.82},
]  # fmt: skip


def seed_chat(app: Flask, username: str) -> int:
    """A chat with a reply written straight to the database: the same bytes every run."""
    with app.extensions["queuechat"].db.session() as session:
        owner = session.scalars(select(User).where(User.username == username)).one()
        chat = ChatSession(owner_id=owner.id, title="Markdown, code and hostile HTML")
        session.add(chat)
        session.flush()
        asked = Message(session_id=chat.id, role=MessageRole.USER,
                        content="Show me markdown with code, a table and some HTML.")  # fmt: skip
        session.add_all(
            [
                asked,
                Message(session_id=chat.id, parent=asked, role=MessageRole.ASSISTANT,
                        content=HOSTILE_REPLY,
                        status=MessageStatus.DONE, citations=CITATIONS, completion_tokens=96,
                        tokens_per_second=41.5),
            ]
        )  # fmt: skip
        session.flush()
        return chat.id


def test_markdown_is_rendered_and_sanitized(
    page: Page, app: Flask, account: dict[str, str]
) -> None:
    chat_id = seed_chat(app, account["X-Username"])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, account["X-Username"])
    page.goto(f"/c/{chat_id}")
    reply = page.locator(".assistant-message")
    expect(reply.locator("pre code")).to_contain_text("return a + b")
    expect(reply.locator("pre .hljs-keyword").first).to_be_visible()  # highlighted
    expect(reply.get_by_role("button", name="Copy code")).to_be_visible()
    expect(reply.locator("table td").first).to_have_text("alpha")
    expect(reply.locator("strong")).to_have_text("sorted")
    # raw HTML is shown as text and never runs; unsafe links keep their text but lose the href
    expect(reply.get_by_text('<img src="x" onerror="window.__pwned = 1">')).to_be_visible()
    assert reply.locator("img, script, iframe").count() == 0
    assert reply.get_by_text("click me").get_attribute("href") is None
    assert reply.get_by_text("data link").get_attribute("href") is None
    assert reply.get_by_text("real link").get_attribute("href") == "https://example.org/docs"
    reply.get_by_text("click me").click()
    assert page.evaluate("window.__pwned") is None and dialogs == []
    if "citations" in MessageOut.model_fields:
        reply.get_by_text("Operations handbook").click()
        expect(page.get_by_role("dialog", name="Source")).to_contain_text(
            "Interactive replies always go first."
        )


# the elements that reach past the given width: what makes the page scroll sideways
WIDER_THAN = """w => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5)
  .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def test_screenshots_at_phone_tablet_and_desktop_widths(
    page: Page, app: Flask, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    chat_id = seed_chat(app, account["X-Username"])
    promote(app, account["X-Username"])
    log_in(page, account["X-Username"])
    for width, height in ((1440, 900), (820, 1180), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/c/{chat_id}")
        expect(page.locator(".assistant-message pre")).to_be_visible()
        phone = width <= 768
        menu = page.get_by_role("button", name="Open chats")
        sidebar = page.get_by_role("navigation", name="Chats")
        if phone:
            expect(menu).to_be_visible()
            expect(sidebar).to_be_hidden()
        else:
            expect(menu).to_have_count(0)
            expect(sidebar).to_be_visible()
        screenshot(page, f"chat-{width}")
        # the composer: on a phone one row (settings button, message box, Send); above it the
        # chat's settings on wider screens
        parts = [page.get_by_role("button", name="Reply settings"), page.get_by_label("Message"),
                 page.get_by_role("button", name="Send")]  # fmt: skip
        boxes = [part.bounding_box() for part in parts]
        assert all(boxes), boxes
        tops = [b["y"] for b in boxes if b] + [b["y"] + b["height"] for b in boxes if b]
        assert (max(tops) - min(tops) <= 60) == phone, (width, boxes)
        if phone:
            parts[0].click()
            expect(page.get_by_role("switch", name="Knowledge base")).to_be_visible()
            page.keyboard.press("Escape")
            menu.click()
            expect(sidebar.get_by_text("Markdown, code and hostile HTML")).to_be_visible()
            page.wait_for_timeout(400)  # the drawer's slide-in transition
            screenshot(page, f"chat-{width}-drawer")
            page.keyboard.press("Escape")
        # no horizontal scrolling of the page itself at any width
        wide = page.evaluate(WIDER_THAN, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, wide
        page.goto("/admin/system")
        expect(page.get_by_text("inference queue")).to_be_visible()
        expect(page.get_by_role("link", name="Open Flower")).to_be_visible()
        screenshot(page, f"admin-system-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/c/{chat_id}")
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator(".assistant-message pre")).to_be_visible()
    screenshot(page, "chat-1440-dark")


def test_admin_tables_and_rows_fit_a_phone(
    page: Page, app: Flask, client: FlaskClient, account: dict[str, str]
) -> None:
    """At 390 px: the users table shows its Active switch inside the screen, and a document's
    status and actions stay together on one line (the delete icon no longer wraps alone)."""
    promote(app, account["X-Username"])
    name = "a-rather-long-document-name-for-phones.md"
    uploaded = upload(client, account, (name, b"# Phones\nA short text."))
    document_id = uploaded.json["items"][0]["id"]  # type: ignore[index]
    try:
        phone_rows(page, account, name)
    finally:  # the knowledge base is every test's: leave it as it was
        client.delete(f"/api/documents/{document_id}", headers=account)


def phone_rows(page: Page, account: dict[str, str], name: str) -> None:
    log_in(page, account["X-Username"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/users")
    user_row = page.get_by_role("row").nth(1)
    expect(user_row.get_by_role("switch")).to_be_visible()
    box = user_row.locator(".MuiSwitch-root").bounding_box()  # what shows (its input is wider)
    assert box is not None and box["x"] + box["width"] <= 390, box
    page.goto("/admin/documents")
    row = page.locator(f"[data-document='{name}']")
    actions = [
        row.locator(".document-status"),
        row.get_by_role("button", name=f"Download {name}"),
        row.get_by_role("button", name=f"Re-index {name}"),
        row.get_by_role("button", name=f"Delete {name}"),
    ]
    centres = []
    for action in actions:
        expect(action).to_be_visible()
        found = action.bounding_box()
        assert found is not None and found["x"] + found["width"] <= 390, found
        centres.append(found["y"] + found["height"] / 2)
    assert max(centres) - min(centres) < 4, centres  # one line
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# width → the chat's and the side panel's share of it (the design: phone full screen, tablet
# 70/30, desktop 60/40); measured with getBoundingClientRect, within 3 points
PROPORTIONS = {390: (1.0, 0.0), 769: (0.7, 0.3), 900: (0.7, 0.3), 1024: (0.7, 0.3),
               1025: (0.6, 0.4), 1440: (0.6, 0.4)}  # fmt: skip
RECT_WIDTH = "el => el.getBoundingClientRect().width"


def test_the_chat_and_its_side_panel_keep_the_designed_proportions(
    page: Page, app: Flask, account: dict[str, str]
) -> None:
    chat_id = seed_chat(app, account["X-Username"])
    log_in(page, account["X-Username"])
    for width, (chat_share, panel_share) in PROPORTIONS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/c/{chat_id}")
        expect(page.locator(".assistant-message pre")).to_be_visible()
        screenshot(page, f"layout-{width}")  # docs/screenshots/ keeps a copy of each
        chat = page.get_by_role("main").evaluate(RECT_WIDTH)
        assert abs(chat / width - chat_share) <= 0.03, (width, chat)
        panel = page.get_by_role("complementary", name="Chat panel")
        if not panel_share:
            expect(panel).to_have_count(0)  # a phone: the chats are in the drawer
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            continue
        assert abs(panel.evaluate(RECT_WIDTH) / width - panel_share) <= 0.03, (width, panel_share)
        # the panel holds the chat list, the chat's settings and the reply's sources
        expect(panel.get_by_role("navigation", name="Chats")).to_contain_text("Markdown, code")
        expect(panel.get_by_role("switch", name="Knowledge base")).to_be_visible()
        expect(panel.locator(".panel-snippet")).to_have_text(
            ["Interactive replies always go first."]
        )
        expect(page.locator(".assistant-message[data-selected]")).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the chat list folds away and comes back
    page.get_by_role("button", name="Hide").click()
    expect(page.get_by_role("navigation", name="Chats")).to_be_hidden()
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()
