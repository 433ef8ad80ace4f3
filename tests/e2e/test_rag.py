"""The knowledge base in a browser: an admin drops documents, sees them index, a chat cites one."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from testkit.processes import WorkerProcess
from tests.e2e.conftest import log_in, promote, screenshot

FACT = (
    "The Qorvath lighthouse on Brenna island was built in 1887 by the engineer "
    "Ilsa Marrow and its lamp is green."
)
FILLER = "\n\n".join(f"## Note {i}\nThe harbour market sells fish on day {i}." for i in range(6))
# every status a document row shows, in order, to see the live progress
RECORD_STATUSES = """() => {
  window.__statuses = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('[data-document]')) {
      const seen = (window.__statuses[row.dataset.document] ??= []);
      if (seen[seen.length - 1] !== row.dataset.status) seen.push(row.dataset.status);
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""
DROP_FILES = """([files]) => {
  const transfer = new DataTransfer();
  for (const [name, text] of files) {
    transfer.items.add(new File([text], name, {type: 'text/plain'}));
  }
  return transfer;
}"""


def test_upload_watch_ready_then_ask_and_see_a_citation(
    page: Page,
    app: Flask,
    client: FlaskClient,
    account: dict[str, str],
    ingest_worker: WorkerProcess,
    celery_worker: WorkerProcess,
) -> None:
    promote(app, account["X-Username"])
    log_in(page, account["X-Username"], max_tokens=40)
    page.goto("/admin/documents")
    expect(page.get_by_text("No documents yet.")).to_be_visible()
    page.evaluate(RECORD_STATUSES)
    files = [("lighthouses.md", f"# Qorvath\n{FACT}\n\n{FILLER}"),
             ("harbour.txt", "The harbour of Brenna has nine piers.\n" * 20)]  # fmt: skip
    zone = page.get_by_role("button", name="Upload documents")
    zone.dispatch_event("drop", {"dataTransfer": page.evaluate_handle(DROP_FILES, [files])})
    for name in ("lighthouses.md", "harbour.txt"):
        row = page.locator(f'[data-document="{name}"]')
        expect(row).to_have_attribute("data-status", "ready", timeout=120_000)
    # a refused upload says why
    empty = page.evaluate_handle(DROP_FILES, [[("empty.txt", "")]])
    zone.dispatch_event("drop", {"dataTransfer": empty})
    expect(page.get_by_role("alert")).to_contain_text("empty.txt")
    statuses = page.evaluate("window.__statuses")
    assert statuses["lighthouses.md"][0] != "ready", statuses  # it was seen on its way
    assert statuses["lighthouses.md"][-1] == "ready"
    screenshot(page, "admin-documents-1440")

    page.goto("/")
    page.get_by_role("button", name="New chat").click()
    switch = page.get_by_role("switch", name="Knowledge base")
    switch.click()  # saved on the server, then shown
    expect(switch).to_be_checked()
    box = page.get_by_label("Message")
    box.fill("Who built the Qorvath lighthouse?")
    box.press("Enter")
    reply = page.locator(".assistant-message").last
    expect(reply).to_have_attribute("data-status", "done", timeout=90_000)
    chip = reply.locator(".citation").first
    expect(chip).to_contain_text("lighthouses")
    chip.click()
    expect(page.get_by_role("dialog", name="Source")).to_contain_text("Ilsa Marrow")
    page.wait_for_timeout(400)  # the popover fades in
    screenshot(page, "chat-citation-1440")
    sessions = client.get("/api/sessions", headers=account).json["items"]  # type: ignore[index]
    assert sessions[0]["use_knowledge_base"] is True
