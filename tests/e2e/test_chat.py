"""The chat UI in a real Chromium against the whole system: real worker, real model."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from testkit.processes import WorkerProcess
from tests.e2e.conftest import log_in

LONG_PROMPT = "Write a long story about a brave knight, a dragon and a village, with many details."
# every render of a reply's text, recorded in the page, to see it grow token by token
RECORD_RENDERS = """() => {
  window.__renders = [];
  new MutationObserver(() => {
    const reply = [...document.querySelectorAll('.assistant-message')].pop();
    const text = reply?.querySelector('.reply-text')?.textContent ?? '';
    if (text && window.__renders[window.__renders.length - 1] !== text) window.__renders.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def messages(client: FlaskClient, account: dict[str, str]) -> list[dict[str, Any]]:
    sessions = client.get("/api/sessions", headers=account).json["items"]  # type: ignore[index]
    assert len(sessions) == 1, sessions
    response = client.get(f"/api/sessions/{sessions[0]['id']}/messages", headers=account)
    return response.json["items"]  # type: ignore[index,no-any-return]


def last_reply(page: Page) -> Locator:
    return page.locator(".assistant-message").last


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def wait_for_text(page: Page, min_chars: int) -> None:
    page.wait_for_function(
        "n => ([...document.querySelectorAll('.assistant-message .reply-text')].pop()"
        "?.textContent.length ?? 0) >= n",
        arg=min_chars,
        timeout=60_000,
    )


def test_log_in_send_and_watch_the_reply_stream_in(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=120)  # long enough to see it grow
    title = "Write a long story about the colours of the sea."
    page.evaluate(RECORD_RENDERS)
    box = page.get_by_label("Message")
    box.fill(title)
    box.press("Shift+Enter")  # a new line, not a send
    box.type("Use many words.")
    expect(page.locator(".assistant-message")).to_have_count(0)
    box.press("Enter")
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    expect(box).to_have_value("")
    stored = messages(client, account)
    assert stored[0]["content"] == f"{title}\nUse many words."
    assert stored[1]["status"] == "done" and stored[1]["content"].strip()
    renders = page.evaluate("window.__renders")
    assert len(renders) >= 4, renders  # many renders as tokens arrived, not one at the end
    assert len(renders[0]) < len(renders[-1])
    expect(page.get_by_test_id("chat-title")).to_have_text(title)
    # the title was given from the first line, and the chat is listed in the sidebar
    sidebar = page.get_by_role("navigation", name="Chats")
    expect(sidebar.get_by_text("Write a long story about the colours")).to_be_visible()


def test_reload_mid_reply_shows_the_full_reply_exactly_once(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=80)
    send(page, LONG_PROMPT)
    wait_for_text(page, 40)
    reply_id = last_reply(page).get_attribute("data-message-id")
    snapshot = page.evaluate("id => sessionStorage.getItem('qc.reply.' + id)", reply_id)
    assert snapshot is not None, "the reply finished before the reload"
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=120_000)
    streamed = last_reply(page).locator(".reply-text").inner_text()
    stored = messages(client, account)[-1]
    assert stored["status"] == "done"
    assert stored["content"].startswith(json.loads(snapshot)["text"])
    assert len(stored["content"]) > len(json.loads(snapshot)["text"])
    # a fresh page shows the stored reply: the resumed stream rendered exactly the same
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-status", "done")
    assert last_reply(page).locator(".reply-text").inner_text() == streamed
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('qc.reply.'))") == []


def test_dropped_connection_mid_reply_resumes_without_gap_or_repeat(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    sockets: list[WebSocketRoute] = []

    def relay(socket: WebSocketRoute) -> None:
        socket.connect_to_server()  # passes frames through both ways
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws$"), relay)
    log_in(page, account["X-Username"], max_tokens=80)
    send(page, LONG_PROMPT)
    wait_for_text(page, 40)
    before = len(last_reply(page).locator(".reply-text").inner_text())
    sockets[0].close()  # the network drops the socket mid-reply
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=120_000)
    assert len(sockets) >= 2, "the page did not reconnect"
    streamed = last_reply(page).locator(".reply-text").inner_text()
    assert len(streamed) > before
    page.reload()  # the stored reply, rendered afresh, is what the resumed stream showed
    expect(last_reply(page)).to_have_attribute("data-status", "done")
    assert last_reply(page).locator(".reply-text").inner_text() == streamed
    assert messages(client, account)[-1]["status"] == "done"


def test_stop_a_reply_with_the_button_and_with_escape(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=400)
    send(page, LONG_PROMPT)
    wait_for_text(page, 20)
    page.get_by_role("button", name="Stop").click()
    expect(last_reply(page)).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(last_reply(page).get_by_text("Stopped.")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    stopped = messages(client, account)[-1]
    assert stopped["status"] == "cancelled"
    assert stopped["content"].strip() and (stopped["completion_tokens"] or 0) < 400

    send(page, "Now tell me a different long story about a ship at sea, in great detail.")
    expect(page.locator(".assistant-message")).to_have_count(2)
    wait_for_text(page, 20)
    page.keyboard.press("Escape")
    expect(last_reply(page)).to_have_attribute("data-status", "cancelled", timeout=30_000)
    assert messages(client, account)[-1]["status"] == "cancelled"


def test_regenerate_and_edit_keep_versions_to_switch_between(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=8)
    send(page, "Say hello.")
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    first_id = last_reply(page).get_attribute("data-message-id") or ""
    page.get_by_role("button", name="Regenerate").click()
    expect(last_reply(page)).not_to_have_attribute("data-message-id", first_id)
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    second_id = last_reply(page).get_attribute("data-message-id") or ""
    expect(last_reply(page).get_by_test_id("versions")).to_have_text("2/2")
    last_reply(page).get_by_role("button", name="Previous version of this reply").click()
    expect(last_reply(page)).to_have_attribute("data-message-id", first_id)
    expect(last_reply(page).get_by_test_id("versions")).to_have_text("1/2")
    assert [m["id"] for m in messages(client, account)][1] == int(first_id)  # it is remembered

    page.get_by_role("button", name="Edit question").click()
    box = page.get_by_label("Edited question")
    expect(box).to_have_value("Say hello.")
    box.fill("Say goodbye.")
    box.press("Enter")
    expect(page.locator("[data-role=user]")).to_have_text(["Say goodbye."])
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    expect(page.get_by_test_id("versions")).to_have_text(["2/2"])  # the question's; one reply
    edited = messages(client, account)
    assert [m["content"] for m in edited][0] == "Say goodbye." and len(edited) == 2

    page.get_by_role("button", name="Previous version of this question").click()
    expect(page.locator("[data-role=user]")).to_have_text(["Say hello."])
    expect(last_reply(page)).to_have_attribute("data-message-id", second_id)  # its newest reply
    expect(page.get_by_test_id("versions")).to_have_text(["1/2", "2/2"])
    page.reload()  # the version shown is the chat's, not the page's
    expect(page.locator("[data-role=user]")).to_have_text(["Say hello."])


def test_a_reply_cut_at_the_length_limit_is_marked_and_can_be_continued(
    page: Page, client: FlaskClient, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=8)
    send(page, LONG_PROMPT)
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    notice = last_reply(page).get_by_test_id("length-notice")
    expect(notice).to_contain_text("Cut at the length limit")
    notice.get_by_role("button", name="Continue").click()
    expect(page.locator(".assistant-message")).to_have_count(2)
    expect(last_reply(page)).to_have_attribute("data-status", "done", timeout=60_000)
    stored = messages(client, account)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[1]["finish_reason"] == "length"
    assert stored[2]["content"] == "Continue exactly where you stopped."
    # only the last reply offers to continue
    first = page.locator(".assistant-message").first
    expect(first.get_by_role("button", name="Continue")).to_have_count(0)


def test_a_message_too_long_for_the_context_is_refused_with_what_to_cut(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    """Refused before it is queued (no worker needed): the composer keeps the text and counts
    it, the alert says how much to cut, and no empty chat is left behind."""
    log_in(page, account["X-Username"], max_tokens=512)
    text = ("The quick brown fox jumps over the lazy dog near the river bank. " * 130)[:7900]
    box = page.get_by_label("Message")
    box.fill(text)
    expect(page.get_by_test_id("char-counter")).to_have_text("7,900 / 8,000")
    box.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(r"cut about \d+ tokens, roughly \d+ characters"))
    expect(alert).not_to_contain_text("request body")
    expect(box).to_have_value(text)
    assert client.get("/api/sessions", headers=account).json["items"] == []  # type: ignore[index]
