"""WCAG 2.2 AA in the browser: axe-core (the checker, from the frontend's locked dev
dependencies) finds nothing on the sign-in, chat, workspace and admin pages at a phone's, a
tablet's and a desktop's width, light and dark; keyboard focus shows a ring of at least 3 px
in a colour of at least 3:1; a screen reader hears a reply start and end."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import WorkerProcess
from tests.e2e.conftest import FRONTEND, log_in, promote

AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
AXE_SOURCE = f"() => {{ {AXE.read_text()} }}" if AXE.exists() else ""
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"phone": (390, 844), "tablet": (900, 1000), "desktop": (1440, 900)}


def violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now: rule, impact, where."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)  # by the debugger protocol: the CSP allows no inline script
    found: list[dict[str, Any]] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)",
        WCAG,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
    ]


def set_mode(page: Page, mode: str) -> None:
    page.evaluate("m => localStorage.setItem('qc.colorMode', m)", mode)
    page.reload()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_pages_have_no_wcag_violations(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    celery_worker: WorkerProcess,
    mode: str,
) -> None:
    page.goto("/login")
    set_mode(page, mode)
    page.get_by_role("button", name="Log in").wait_for()
    problems = [f"login {mode}: {v}" for v in violations(page)]
    promote(app, account["X-Username"])
    log_in(page, account["X-Username"], max_tokens=8)
    box = page.get_by_label("Message")
    box.fill("Say hello.")
    box.press("Enter")
    expect(page.locator(".assistant-message").last).to_have_attribute(
        "data-status", "done", timeout=60_000
    )
    chat_url = page.url
    for name, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in (chat_url, "/workspace", "/admin"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            problems += [f"{path} {name} {mode}: {v}" for v in violations(page)]
    assert problems == [], "\n".join(problems)


def test_keyboard_focus_shows_a_ring(page: Page, account: dict[str, str]) -> None:
    log_in(page, account["X-Username"])
    page.get_by_label("Message").focus()
    page.keyboard.press("Shift+Tab")  # to the control before, by keyboard: :focus-visible applies
    ring = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   const e = document.activeElement;
                   return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,
                           e.tagName + ' ' + (e.getAttribute('aria-label') || e.textContent)]; }"""
    )
    assert not ring[3].startswith("BODY"), ring  # a control has the focus
    assert ring[0] == "solid" and ring[1] >= 3, ring
    assert ring[2] == "rgb(26, 95, 208)", ring  # the primary colour: 5.6:1 on white
    send = page.get_by_role("button", name="Send")
    expect(send).to_be_disabled()
    colours = send.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert contrast(*colours) >= 4.5, colours  # the disabled Send still reads (1.85:1 before)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two opaque rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_a_screen_reader_hears_a_reply_start_and_end(
    page: Page, account: dict[str, str], celery_worker: WorkerProcess
) -> None:
    log_in(page, account["X-Username"], max_tokens=24)
    page.evaluate(
        """() => { window.__heard = [];
            new MutationObserver(() => {
              const t = document.querySelector('[data-testid=reply-announcer]')?.textContent;
              if (t && window.__heard[window.__heard.length - 1] !== t) window.__heard.push(t);
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    box = page.get_by_label("Message")
    box.fill("Name a colour.")
    box.press("Enter")
    expect(page.locator(".assistant-message").last).to_have_attribute(
        "data-status", "done", timeout=60_000
    )
    announcer = page.get_by_test_id("reply-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text("The reply is complete.")
    assert page.evaluate("window.__heard") == ["The reply started.", "The reply is complete."]
