"""Single sign-on in a browser: the login page's button, the provider's form, back signed in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from app import create_app
from app.config import Settings
from testkit.oidc import OidcProvider
from testkit.processes import LiveServer
from tests.e2e.conftest import page_of, screenshot


@pytest.fixture(scope="module")
def sso_server(settings: Settings, oidc: OidcProvider, frontend_dist: Path) -> Iterator[LiveServer]:
    configured = settings.model_copy(
        update={
            "oidc_issuer": oidc.url,
            "oidc_client_id": "queuechat-e2e",
            "oidc_client_secret": "e2e secret",
            "oidc_admin_group": "qc-admins",
            "oidc_display_name": "Test IdP",
        }
    )
    flask_app: Flask = create_app(configured)
    server = LiveServer(flask_app)
    yield server
    server.stop()
    flask_app.extensions["queuechat"].db.dispose()


@pytest.fixture()
def sso_page(browser: Browser, sso_server: LiveServer) -> Iterator[Page]:
    with page_of(browser, sso_server) as opened:
        yield opened


def test_sign_in_with_the_provider_creates_the_account(sso_page: Page, oidc: OidcProvider) -> None:
    sub = f"dana-{uuid.uuid4().hex[:6]}"
    oidc.set_user(sub, {"preferred_username": sub, "email": f"{sub}@example.com",
                        "groups": ["qc-admins"]})  # fmt: skip
    sso_page.goto("/login")
    expect(sso_page.get_by_label("Username")).to_be_visible()  # local accounts stay
    screenshot(sso_page, "login-sso-1280")
    sso_page.get_by_role("link", name="Sign in with Test IdP").click()
    sso_page.get_by_placeholder("sub").fill(sub)
    sso_page.get_by_role("button", name="Authorize").click()
    sso_page.get_by_role("button", name="New chat").wait_for()
    assert "sso_code" not in sso_page.url  # the one-time code left the address bar
    me = sso_page.evaluate(
        """async () => {
            const tokens = JSON.parse(localStorage.getItem('qc.tokens'));
            const answer = await fetch('/api/auth/me',
                {headers: {Authorization: 'Bearer ' + tokens.access_token}});
            return answer.json();
        }"""
    )
    assert (me["username"], me["role"]) == (sub, "admin")


def test_a_refused_sign_in_says_why(sso_page: Page, oidc: OidcProvider) -> None:
    sub = f"eve-{uuid.uuid4().hex[:6]}"
    oidc.set_user(sub, {"aud": "another-app"})
    sso_page.goto("/login")
    sso_page.get_by_role("link", name="Sign in with Test IdP").click()
    sso_page.get_by_placeholder("sub").fill(sub)
    sso_page.get_by_role("button", name="Authorize").click()
    expect(sso_page.get_by_role("alert")).to_contain_text("not valid for this site")
    expect(sso_page.get_by_role("button", name="Log in")).to_be_visible()
