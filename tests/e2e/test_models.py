"""Choosing a model in the browser: with two models served (two real workers), the chat's
settings offer both; a chat set to the second is answered by it, and the reply says which."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from app import create_app
from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess, wait_until
from tests.e2e.conftest import log_in, page_of
from tests.workers.test_models import LONG, SMALL, served, two_models


def test_a_chat_answered_by_the_model_chosen_for_it(
    browser: Browser, settings: Settings, account: dict[str, str]
) -> None:
    isolated = two_models(settings)
    flask_app = create_app(isolated)
    server = LiveServer(flask_app)
    workers = [
        WorkerProcess(isolated.model_copy(update={"worker_model": name}), queues="inference,batch")
        for name in (SMALL, LONG)
    ]
    try:  # a worker announces its model just after it says it is ready
        client = flask_app.test_client()
        wait_until(lambda: served(client, account) == [SMALL, LONG], timeout=30, what="both")
        with page_of(browser, server) as page:
            log_in(page, account["X-Username"], max_tokens=4)
            page.get_by_label("Model").click()
            expect(page.get_by_role("option")).to_have_text([f"Default ({SMALL})", SMALL, LONG])
            page.get_by_role("option", name=LONG, exact=True).click()
            page.get_by_label("Message").fill("Say hi.")
            page.get_by_label("Message").press("Enter")
            expect(page.get_by_test_id("reply-model")).to_have_text(LONG, timeout=60_000)
            expect(page.get_by_label("Model")).to_have_text(LONG)  # the chat keeps its model
            page.reload()
            expect(page.get_by_test_id("reply-model")).to_have_text(LONG)
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
        flask_app.extensions["queuechat"].db.dispose()
