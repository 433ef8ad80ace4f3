"""API keys in the browser: created and shown once, listed with their last use, revoked."""

from __future__ import annotations

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in, screenshot


def test_create_use_and_revoke_an_api_key(
    page: Page, client: FlaskClient, account: dict[str, str]
) -> None:
    log_in(page, account["X-Username"])
    page.get_by_role("link", name="Workspace").click()
    page.get_by_role("tab", name="API keys").click()
    page.get_by_label("Key name").fill("notebook")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").inner_text().strip()
    assert key.startswith("qc-") and len(key) > 40
    row = page.locator('[data-key-name="notebook"]')
    expect(row.get_by_test_id("last-used")).to_have_text("never")
    screenshot(page, "workspace-keys-1280")
    page.set_viewport_size({"width": 375, "height": 812})
    expect(page.get_by_label("New API key")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    screenshot(page, "workspace-keys-375")
    page.set_viewport_size({"width": 1280, "height": 800})

    assert client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    page.reload()
    expect(row.get_by_test_id("last-used")).not_to_have_text("never")
    expect(page.get_by_label("New API key")).to_have_count(0)  # shown once, never again
    assert key not in page.content()

    row.get_by_role("button", name="Revoke notebook").click()
    expect(row.get_by_text("Revoked")).to_be_visible()
    refused = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401
    listed = client.get("/api/keys", headers=account).json["items"]  # type: ignore[index]
    assert [(k["name"], k["revoked_at"] is not None) for k in listed] == [("notebook", True)]
