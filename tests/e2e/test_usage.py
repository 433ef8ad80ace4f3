"""Usage, budgets and the audit log in a browser: a user's own usage and budget, an admin's
chart, tables and CSV exports, budgets set and cleared, the audit log filtered and exported."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.models import User, utcnow
from app.records import UsageRecord
from testkit.processes import WorkerProcess
from tests.api.test_budgets import set_budget, spend, user_id_of
from tests.conftest import register_and_login
from tests.e2e.conftest import log_in, promote, screenshot


def seed_usage(app: Flask, username: str, prompt: int, completion: int) -> int:
    """Two earlier generations of the user's, as workers record them; returns the user id."""
    with app.extensions["queuechat"].db.session() as db:
        user_id = db.scalars(select(User.id).where(User.username == username)).one()
        base = db.scalar(select(func.count()).select_from(UsageRecord)) or 0
        for n in range(2):
            db.add(
                UsageRecord(
                    user_id=user_id,
                    kind="chat",
                    job_id=-(2 * 10**9) - base - n,
                    model_name="SmolLM2-test",
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    day=utcnow().date(),
                )
            )
    return int(user_id)


@pytest.fixture()
def admin(app: Flask, client: FlaskClient) -> Iterator[dict[str, str]]:
    account = register_and_login(client)
    promote(app, account["X-Username"])
    yield account
    client.put(  # the default budget is everyone's: leave none behind
        "/api/admin/budgets/default",
        json={"daily_tokens": None, "monthly_tokens": None},
        headers=account,
    )


def downloaded(page: Page, button: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    text = Path(info.value.path()).read_text()
    return list(csv.DictReader(io.StringIO(text)))


def test_a_user_sees_their_usage_and_budget(
    page: Page, app: Flask, client: FlaskClient, account: dict[str, str], admin: dict[str, str]
) -> None:
    user_id = seed_usage(app, account["X-Username"], 30, 12)
    client.put(f"/api/admin/budgets/users/{user_id}", json={"daily_tokens": 1000}, headers=admin)
    log_in(page, account["X-Username"])
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_test_id("usage-total")).to_have_text("84 tokens in 2 requests")
    today = page.locator("svg[aria-label='Your tokens per day'] g").last
    expect(today).to_have_attribute("data-total", "84")
    expect(page.locator("[data-budget='Today']")).to_contain_text("84 of 1,000 tokens")
    expect(page.locator("[data-budget='This month']")).to_contain_text("no limit")
    row = page.get_by_role("table", name="By model").locator("[data-row='SmolLM2-test']")
    expect(row.locator("[data-total]")).to_have_text("84")
    page.get_by_role("button", name="7 days").click()
    expect(page.locator("svg[aria-label='Your tokens per day'] g")).to_have_count(7)
    screenshot(page, "usage-1280")


def test_admin_usage_chart_and_csv(
    page: Page, app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    heavy = register_and_login(client)
    seed_usage(app, heavy["X-Username"], 100, 50)
    log_in(page, admin["X-Username"])
    page.goto("/admin/usage")
    row = page.get_by_role("table", name="By user").locator(f"[data-row='{heavy['X-Username']}']")
    expect(row.locator("[data-total]")).to_have_text("300")
    expect(page.locator('svg[aria-label="Everyone\'s tokens per day"] g')).to_have_count(30)
    rows = downloaded(page, "Export CSV")
    mine = [r for r in rows if r["username"] == heavy["X-Username"]]
    assert [(r["model"], r["requests"], r["total_tokens"]) for r in mine] == [
        ("SmolLM2-test", "2", "300")
    ]
    screenshot(page, "admin-usage-1280")


def test_admin_sets_and_clears_budgets(
    page: Page, client: FlaskClient, admin: dict[str, str]
) -> None:
    other = register_and_login(client)
    log_in(page, admin["X-Username"])
    page.goto("/admin/budgets")
    default = page.get_by_test_id("default-budget")
    default.get_by_label("Daily tokens").fill("5000")
    default.get_by_role("button", name="Save").click()
    expect(default).to_contain_text("Default for everyone: 5,000 a day, no limit a month")
    page.get_by_label("User", exact=True).click()
    page.get_by_role("option", name=other["X-Username"]).click()
    form = page.get_by_role("form", name="User budget")
    form.get_by_label("Monthly tokens").fill("20000")
    form.get_by_role("button", name="Save").click()
    row = page.locator(f"[data-username='{other['X-Username']}']")
    expect(row).to_contain_text("20,000")
    listed = client.get("/api/admin/budgets", headers=admin).json
    assert listed["default"]["daily_tokens"] == 5000
    own = [u for u in listed["users"] if u["username"] == other["X-Username"]]
    assert [(u["daily_tokens"], u["monthly_tokens"]) for u in own] == [(None, 20000)]
    row.get_by_role("button", name="Use default").click()
    expect(row).to_have_count(0)
    default.get_by_label("Daily tokens").fill("")
    default.get_by_role("button", name="Save").click()
    expect(default).to_contain_text("Default for everyone: no limit a day, no limit a month")
    assert client.get("/api/admin/budgets", headers=admin).json["default"]["daily_tokens"] is None


def test_audit_log_filters_and_export(
    page: Page, client: FlaskClient, admin: dict[str, str]
) -> None:
    victim = register_and_login(client)
    wrong = {"username": victim["X-Username"], "password": "not the password"}
    assert client.post("/api/auth/login", json=wrong).status_code == 401
    log_in(page, admin["X-Username"])
    page.goto("/admin/audit")
    page.get_by_label("Action").click()
    page.get_by_role("option", name="sign_in_failed").click()
    failed = page.locator("[data-action='sign_in_failed']").filter(has_text=victim["X-Username"])
    expect(failed).to_have_count(1)
    expect(page.locator("[data-action='sign_in']")).to_have_count(0)
    rows = downloaded(page, "Export CSV")
    assert {r["action"] for r in rows} == {"sign_in_failed"}
    assert victim["X-Username"] in [r["actor_name"] for r in rows]
    assert "not the password" not in str(rows)
    screenshot(page, "admin-audit-1280")


def test_a_reply_cut_by_the_budget_says_so_and_the_next_send_is_refused(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    admin_headers: dict[str, str],
    celery_worker: WorkerProcess,
) -> None:
    """5 tokens left of the day's 1,000: the reply stops at the budget and the chat says why,
    live and after a reload; the next message is refused with the reset time, and stays out."""
    user_id = user_id_of(app, account)
    set_budget(client, admin_headers, user_id, daily_tokens=1000)
    spend(app, user_id, 995)
    log_in(page, account["X-Username"], max_tokens=40)
    box = page.get_by_label("Message")
    box.fill("Tell me a long story about the sea.")
    box.press("Enter")
    reply = page.locator(".assistant-message").last
    expect(reply).to_have_attribute("data-status", "done", timeout=60_000)
    expect(reply.get_by_test_id("budget-notice")).to_contain_text("token budget ran out")
    page.reload()
    reply = page.locator(".assistant-message").last
    expect(reply.get_by_test_id("budget-notice")).to_be_visible(timeout=30_000)
    box = page.get_by_label("Message")
    box.fill("And another one.")
    box.press("Enter")
    # the refusal's own alert (the reply above keeps its budget notice, an alert too)
    refused = page.get_by_role("alert").filter(has_text="not queued")
    expect(refused).to_contain_text("budget", timeout=30_000)
    expect(page.locator(".assistant-message")).to_have_count(1)
    client.put(  # no budget left behind for the tests after this one
        f"/api/admin/budgets/users/{user_id}",
        json={"daily_tokens": None, "monthly_tokens": None},
        headers=admin_headers,
    )


def test_a_refused_first_message_leaves_no_empty_chat(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    """The budget is spent: the first message of a new chat is refused (429 with the reset
    time, too far off to wait for): the chat made for it is gone again, the page still offers a
    new chat, and the message stays in the box."""
    user_id = user_id_of(app, account)
    set_budget(client, admin_headers, user_id, daily_tokens=100)
    spend(app, user_id, 100)
    log_in(page, account["X-Username"])
    box = page.get_by_label("Message")
    box.fill("Is there anything left?")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("budget")
    expect(page.get_by_text("Start a new chat")).to_be_visible()
    expect(box).to_have_value("Is there anything left?")
    expect(page.get_by_test_id("retry-countdown")).to_have_count(0)
    sidebar = page.get_by_role("navigation", name="Chats")
    expect(sidebar.get_by_text("Is there anything left?")).to_have_count(0)
    assert client.get("/api/sessions", headers=account).json["items"] == []
    client.put(
        f"/api/admin/budgets/users/{user_id}",
        json={"daily_tokens": None, "monthly_tokens": None},
        headers=admin_headers,
    )
