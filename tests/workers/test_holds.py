"""The engine's wait for a step while chat jobs are on their way (holds.py), on a fake clock:
the real engine's behaviour is in test_engine.py."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from workers.inference.holds import HOLD_MAX_S, Holds
from workers.inference.sequence import BATCH, CHAT


def placed(*priorities: int) -> list[Any]:
    return [SimpleNamespace(request=SimpleNamespace(priority=p)) for p in priorities]


def await_in_thread(
    holds: Holds, lock: threading.Condition, sequences: list[Any], timeout: float = 10
) -> list[bool]:
    """What ``await_step`` returned within ``timeout`` (nothing: it still waits)."""
    found: list[bool] = []

    def wait() -> None:
        with lock:
            found.append(holds.await_step([], sequences))

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    thread.join(timeout)
    return found


def test_a_hold_that_lapses_between_two_looks_ends_the_wait() -> None:
    """The clock moves past the lapse right after the engine decided to wait: it waits for
    the lapse it read, then steps (with two readings, it waited for a notice that never came)."""
    lock = threading.Condition()
    readings = iter([0.0, HOLD_MAX_S - 0.001, HOLD_MAX_S + 0.001])
    holds = Holds(lock, clock=lambda: next(readings, HOLD_MAX_S + 1))
    with holds.expecting():
        assert await_in_thread(holds, lock, placed(BATCH, BATCH)) == [False]


def test_the_engine_waits_only_while_batch_items_alone_are_held_back() -> None:
    lock = threading.Condition()
    holds = Holds(lock, clock=lambda: 0.0)  # no hold lapses
    with lock:
        assert holds.await_step([], placed(BATCH, CHAT)) is False  # nothing held
    with holds.expecting():
        with lock:
            assert holds.await_step([], placed(BATCH, CHAT)) is True  # the chat steps
            assert holds.await_step(placed(BATCH), placed(BATCH)) is True  # a newcomer
        released = threading.Timer(0.2, holds.arrived)  # another thread's: not this hold
        released.start()
        assert await_in_thread(holds, lock, placed(BATCH), 1.0) == [], "batch items stepped"
        released.join()
    assert await_in_thread(holds, lock, placed(BATCH)) == [False]
