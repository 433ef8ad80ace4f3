"""A worker killed mid-item: no item is lost, none gets a second final write."""

from __future__ import annotations

import json

from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.enums import ItemStatus
from app.models import BatchItem
from testkit.processes import WorkerProcess, wait_until
from tests.conftest import USER_DEFAULT_VISIBILITY, isolated_settings, register_and_login
from workers.context import build_context
from workers.inference.item_job import ItemClaim, ItemOutcome, store_item


def test_sigkill_mid_item_loses_nothing_and_writes_once(settings: Settings) -> None:
    isolated = isolated_settings(settings, 7, visibility_timeout_s=USER_DEFAULT_VISIBILITY)
    app = create_app(isolated)
    client = app.test_client()
    db = app.extensions["queuechat"].db
    headers = register_and_login(client)
    rows = [{"custom_id": f"r{i}", "prompt": "Write a long story.", "max_tokens": 48}
            for i in range(3)]  # fmt: skip
    batch = client.post(
        "/api/batches",
        data="\n".join(json.dumps(r) for r in rows),
        headers={**headers, "Content-Type": "application/jsonl"},
    ).json

    def items() -> list[BatchItem]:
        with db.session() as session:
            query = (
                select(BatchItem).where(BatchItem.batch_id == batch["id"]).order_by(BatchItem.id)
            )
            return list(session.scalars(query))

    first = WorkerProcess(isolated, queues="inference,batch")
    second: WorkerProcess | None = None
    try:
        wait_until(lambda: items()[0].status == "running", timeout=60, what="a running item")
        first.kill()
        running = {i.id for i in items() if i.status == "running"}  # in the engine together
        assert items()[0].id in running
        second = WorkerProcess(isolated, queues="inference,batch")
        wait_until(lambda: all(i.status == "done" for i in items()), timeout=120, what="the batch")
    finally:
        first.stop()
        if second is not None:
            second.stop()
    done = items()
    assert [i.custom_id for i in done] == ["r0", "r1", "r2"]
    assert [i.attempts for i in done] == [2 if i.id in running else 1 for i in done]
    assert all(i.output and i.completion_tokens == 48 for i in done)
    assert done[0].output == done[1].output == done[2].output  # temperature 0: same story
    status = client.get(f"/api/batches/{batch['id']}", headers=headers).json
    assert status["status"] == "done" and status["counts"]["done"] == 3
    # the killed attempt, waking up late, cannot overwrite the stored result
    stale = ItemClaim(done[0].id, attempt=1, batch_id=batch["id"], request=done[0].request)
    ctx = build_context(isolated)
    assert not store_item(ctx, stale, ItemOutcome(ItemStatus.FAILED, error="stale"))
    assert items()[0].status == "done" and items()[0].error is None
    ctx.db.dispose()
    db.dispose()
