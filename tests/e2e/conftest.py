"""Browser fixtures: Debian's Chromium driven by Playwright against the live server."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.enums import Role
from app.models import User
from testkit.processes import LiveServer
from tests.conftest import ARTIFACTS, register_and_login

CHROMIUM = Path("/usr/bin/chromium")
FRONTEND = PROJECT_ROOT / "frontend"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """The built UI; built here when scripts/test.sh did not build it already."""
    dist = FRONTEND / "dist"
    if not (dist / "index.html").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("frontend/dist is not built and npm is not installed")
        if not (FRONTEND / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)
    return dist


@pytest.fixture(scope="session")
def browser(frontend_dist: Path) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def page_of(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A desktop-sized page on the server; an uncaught error in it fails the test."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture()
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    with page_of(browser, live_server) as opened:
        yield opened


@pytest.fixture()
def account(client: FlaskClient) -> dict[str, str]:
    return register_and_login(client, f"e2e{uuid.uuid4().hex[:8]}", PASSWORD)


def promote(app: Flask, username: str) -> None:
    with app.extensions["queuechat"].db.session() as session:
        session.scalars(select(User).where(User.username == username)).one().role = Role.ADMIN


def log_in(page: Page, username: str, *, max_tokens: int | None = None) -> None:
    """Logs in through the form; max_tokens caps replies (the reply settings do the same)."""
    page.goto("/login")
    if max_tokens is not None:
        page.evaluate("n => localStorage.setItem('qc.maxTokens', String(n))", max_tokens)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="New chat").wait_for()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
