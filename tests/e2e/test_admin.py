"""The admin area in a browser: templates with few-shot examples, and users."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.conftest import register_and_login
from tests.e2e.conftest import log_in, promote, screenshot


def test_templates_edit_reorder_examples_and_set_default(
    page: Page, app: Flask, client: FlaskClient, account: dict[str, str]
) -> None:
    promote(app, account["X-Username"])
    log_in(page, account["X-Username"])
    page.goto("/admin/templates")
    name = f"Pirate {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("System prompt").fill("You answer like a pirate.")
    for user_input, output in (("Hello", "Ahoy!"), ("Bye", "Fair winds!")):
        page.get_by_role("button", name="Add example").click()
        example = page.locator("[data-example]").last
        example.get_by_label("User", exact=False).fill(user_input)
        example.get_by_label("Assistant", exact=False).fill(output)
    page.get_by_role("button", name="Move example 2 up").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.get_by_role("button", name="Set as default").click()
    expect(page.get_by_text("Default", exact=True)).to_be_visible()
    screenshot(page, "admin-templates-1440")

    templates = client.get("/api/templates", headers=account).json["items"]  # type: ignore[index]
    saved = next(t for t in templates if t["name"] == name)
    assert saved["system_prompt"] == "You answer like a pirate."
    assert saved["is_default"] is True
    ordered = sorted(saved["examples"], key=lambda e: e["position"])
    assert [(e["user_input"], e["assistant_output"]) for e in ordered] == [
        ("Bye", "Fair winds!"),
        ("Hello", "Ahoy!"),
    ]
    # the chat's template picker offers it
    page.goto("/")
    page.get_by_role("button", name="New chat").click()
    page.get_by_label("Template").click()
    expect(page.get_by_role("option", name=f"{name} (default)")).to_be_visible()


def test_users_change_role_and_deactivate(
    page: Page, app: Flask, client: FlaskClient, account: dict[str, str]
) -> None:
    promote(app, account["X-Username"])
    other = register_and_login(client)
    log_in(page, account["X-Username"])
    page.goto("/admin/users")
    row = page.locator(f'[data-username="{other["X-Username"]}"]')
    row.get_by_label(f"Role of {other['X-Username']}").click()
    page.get_by_role("option", name="admin").click()
    expect(row.get_by_label(f"Role of {other['X-Username']}")).to_have_text("admin")
    row.get_by_label(f"{other['X-Username']} active").click()
    expect(row.get_by_label(f"{other['X-Username']} active")).not_to_be_checked()
    # an admin cannot lock themselves out: their own row is read-only
    mine = page.locator(f'[data-username="{account["X-Username"]}"]')
    expect(mine.get_by_label(f"{account['X-Username']} active")).to_be_disabled()
    assert client.get("/api/auth/me", headers=other).status_code == 401  # deactivated
    users = client.get("/api/admin/users", headers=account).json["items"]  # type: ignore[index]
    changed = next(u for u in users if u["username"] == other["X-Username"])
    assert changed["role"] == "admin" and changed["active"] is False
    page.set_viewport_size({"width": 375, "height": 812})
    screenshot(page, "admin-users-375")


def test_deleting_a_template_asks_first(
    page: Page, app: Flask, client: FlaskClient, account: dict[str, str]
) -> None:
    promote(app, account["X-Username"])
    log_in(page, account["X-Username"])
    page.goto("/admin/templates")
    name = f"Doomed {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("System prompt").fill("You are short-lived.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    def names() -> list[str]:
        items = client.get("/api/templates", headers=account).json["items"]  # type: ignore[index]
        return [t["name"] for t in items]

    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Delete the template {name}?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert name in names()  # cancelled: nothing deleted
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_label("Name")).to_have_value("")
    assert name not in names()
