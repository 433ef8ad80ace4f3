"""A sent ticket wakes its model's reserve: the reserve looks for a light user's job at once,
not at its next poll (workers/inference/arrivals.py, Scout in workers/inference/tasks.py)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis as redis_lib

from app.config import Settings
from app.jobs import JobQueue
from app.redis_keys import FAIR_ARRIVALS, db_channel
from app.services.fair_share import Waiting
from testkit.processes import wait_until
from tests.conftest import isolated_settings
from workers.inference import fair, tasks
from workers.inference.arrivals import ArrivalWatch


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.count += 1


def test_a_sent_ticket_wakes_the_workers_of_its_model_only(settings: Settings) -> None:
    isolated = isolated_settings(settings, 15)
    client = redis_lib.Redis.from_url(isolated.redis_url)
    default = isolated.model_names[0]
    ours, others = Wakes(), Wakes()
    watches = [ArrivalWatch(client, default, ours), ArrivalWatch(client, "another", others)]
    for watch in watches:
        watch.start()
    queue = JobQueue(isolated)
    try:
        channel = db_channel(client, FAIR_ARRIVALS)  # this database's: no other run's workers
        wait_until(
            lambda: client.pubsub_numsub(channel)[0][1] == 2,
            timeout=10,
            what="subscribed",
        )
        queue.enqueue_completion(101, None)  # the default model's ticket: no worker takes it
        wait_until(lambda: ours.count == 1, timeout=10, what="the default model's workers woken")
        queue.enqueue_reply(102, default, "some-worker")  # routed to one worker: still a ticket
        wait_until(lambda: ours.count == 2, timeout=10, what="woken for a routed reply")
        # many tickets at once: woken at least once for them, never more than once each
        for job_id in range(200, 250):
            queue.enqueue_completion(job_id, default)
        wait_until(lambda: ours.count > 2, timeout=10, what="woken for the burst")
        queue.enqueue_completion(103, "another")
        wait_until(lambda: others.count == 1, timeout=10, what="the other model's workers woken")
        assert 2 < ours.count <= 52
    finally:
        for watch in watches:
            watch.stop()
        client.flushdb()


@pytest.fixture()
def scout() -> Iterator[tasks.Scout]:
    fresh = tasks.Scout()
    saved, tasks.scout = tasks.scout, fresh
    yield fresh
    tasks.scout = saved


def test_the_reserve_looks_again_at_once_after_a_ticket_is_sent(
    scout: tasks.Scout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a look that found no light user's job, the reserve stays quiet for its poll
    interval, unless a ticket is sent: also when it is sent while the look runs (the look's
    query may have read the rows before the new job's)."""
    looks: list[Collection[int]] = []
    during_look: list[bool] = []

    def pick_light(_ctx: Any, inside: Collection[int]) -> Waiting | None:
        looks.append(inside)
        if during_look and during_look.pop():
            tasks.wake_reserve()
        return None

    monkeypatch.setattr(fair, "pick_light", pick_light)
    model: Any = SimpleNamespace(engine=SimpleNamespace(owners=lambda: ([7], True)))
    ctx: Any = None
    assert not tasks.start_light(ctx, model)
    assert looks == [{7}]
    assert not tasks.start_light(ctx, model)  # quiet: no second query
    assert len(looks) == 1
    tasks.wake_reserve()
    assert not tasks.start_light(ctx, model)
    assert len(looks) == 2
    assert not tasks.start_light(ctx, model)
    assert len(looks) == 2
    tasks.wake_reserve()
    during_look.append(True)
    assert not tasks.start_light(ctx, model)  # a ticket sent while this look ran
    assert len(looks) == 3
    assert not tasks.start_light(ctx, model)
    assert len(looks) == 4
    assert not tasks.start_light(ctx, model)
    assert len(looks) == 4


def test_a_wake_reaches_the_threads_waiting_for_a_place() -> None:
    gate = tasks.QueueGate("inference")
    gate.placed = 1  # every place taken
    woke = threading.Event()

    def wait() -> None:
        gate.take_place(1, 60.0)
        woke.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    assert not woke.wait(0.2)
    for _ in range(100):  # the thread may not be waiting yet: wake until it is (at most 10 s)
        gate.wake()
        if woke.wait(0.1):
            break
    assert woke.is_set(), "still waiting for a place after the wake-ups"
    thread.join()
