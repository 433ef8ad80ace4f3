"""A login the server ends while the page follows a reply (issue 15: sockets follow the
account): the tab goes to the sign-in page and says why, instead of a silent redirect."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import WorkerProcess
from tests.api.test_budgets import user_id_of
from tests.e2e.conftest import log_in

LONG_PROMPT = "Write a long story about a brave knight, a dragon and a village, with many details."


def test_a_user_deactivated_mid_reply_is_told_why_on_the_sign_in_page(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    admin_headers: dict[str, str],
    celery_worker: WorkerProcess,
) -> None:
    log_in(page, account["X-Username"], max_tokens=200)
    box = page.get_by_label("Message")
    box.fill(LONG_PROMPT)
    box.press("Enter")
    page.wait_for_function(  # the socket is open and following the reply
        "() => ([...document.querySelectorAll('.assistant-message .reply-text')].pop()"
        "?.textContent.length ?? 0) >= 5",
        timeout=60_000,
    )
    user_id = user_id_of(app, account)
    answer = client.patch(
        f"/api/admin/users/{user_id}", json={"active": False}, headers=admin_headers
    )
    assert answer.status_code == 200, answer.json
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("status")).to_contain_text(
        "You were signed out: this account was deactivated"
    )
    # signing in again is refused with the reason, not silently
    page.get_by_label("Username").fill(account["X-Username"])
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("disabled")
