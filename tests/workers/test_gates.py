"""A queue gate's pauses and resumes, whatever order the consumer's event loop runs them in.

kombu's Hub keeps the callbacks scheduled with ``call_soon`` in a set: two scheduled close
together run in either order. The real path (a batch cancelled while running, then another
batch served by a real worker) is tests/api/test_batches.py; here a consumer that runs the
callbacks in the order the test picks (the narrow fake) shows both orders end as the gate wants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from workers.inference.gates import QueueGate


class Consumer:
    """Celery's consumer as the gate uses it; callbacks wait for the test to run them."""

    def __init__(self, consuming: set[str]) -> None:
        self.consuming = consuming
        self.task_consumer = self
        self.callbacks: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        self.callbacks.append(lambda: callback(*args))

    def consuming_from(self, queue: str) -> bool:
        return queue in self.consuming

    def cancel_task_queue(self, queue: str) -> None:
        self.consuming.discard(queue)

    def add_task_queue(self, queue: str) -> None:
        self.consuming.add(queue)

    def run(self, reverse: bool) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in reversed(callbacks) if reverse else callbacks:
            callback()


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
def test_a_pause_then_a_resume_leave_the_queue_consumed(reverse: bool) -> None:
    gate, consumer = QueueGate("batch"), Consumer({"batch"})
    gate.consumer = consumer  # type: ignore[assignment]
    assert gate.enter(1)  # its one place taken: pause
    gate.leave(1)  # freed: resume
    assert len(consumer.callbacks) == 2
    consumer.run(reverse)
    assert consumer.consuming == {"batch"}
    assert gate.enter(1)
    consumer.run(reverse)
    assert consumer.consuming == set()  # paused while the place is taken
    assert not gate.enter(1)  # a job that came anyway goes back
    gate.leave(1)
    consumer.run(reverse)
    assert consumer.consuming == {"batch"}
