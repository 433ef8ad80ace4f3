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
    """Celery's consumer as the gate uses it; callbacks wait for the test to run them. A new
    one consumes the queues selected (``app.amqp.queues``, shared by the worker's consumers:
    a cancel deselects a queue, an add selects it)."""

    def __init__(self, selected: set[str]) -> None:
        self.selected = selected
        self.consuming = set(selected)
        self.task_consumer: Consumer | None = self
        self.callbacks: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        self.callbacks.append(lambda: callback(*args))

    def consuming_from(self, queue: str) -> bool:
        return queue in self.consuming

    def cancel_task_queue(self, queue: str) -> None:
        self.selected.discard(queue)
        self.consuming.discard(queue)

    def add_task_queue(self, queue: str) -> None:
        self.selected.add(queue)
        self.consuming.add(queue)

    def run(self, reverse: bool) -> None:
        callbacks, self.callbacks = self.callbacks, []
        for callback in reversed(callbacks) if reverse else callbacks:
            callback()


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
def test_a_pause_then_a_resume_leave_the_queue_consumed(reverse: bool) -> None:
    gate, consumer = QueueGate("batch"), Consumer({"batch"})
    gate.consumer = consumer
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


def test_a_pause_while_the_connection_is_lost_holds_in_the_next_consumer() -> None:
    selected = {"inference", "inference@w1"}
    gate = QueueGate("inference")
    gate.queues.append("inference@w1")  # a gate with two queues: the shared and the worker's
    gate.start(Consumer(selected))
    gate.consumer = None  # lost: CaptureConsumer.stop
    assert gate.enter(1)  # paused with no consumer to tell
    consumer = Consumer(selected)
    gate.start(consumer)
    assert consumer.consuming == set()
    gate.leave(1)
    consumer.run(reverse=False)
    assert consumer.consuming == {"inference", "inference@w1"}


def test_a_resume_while_the_connection_is_lost_holds_in_the_next_consumer() -> None:
    selected = {"batch"}
    gate, consumer = QueueGate("batch"), Consumer(selected)
    gate.start(consumer)
    assert gate.enter(1)
    consumer.run(reverse=False)
    assert selected == set()  # cancelled: deselected, so a new consumer would not take it up
    gate.consumer = None
    gate.leave(1)  # resumed with no consumer to tell
    consumer = Consumer(selected)
    gate.start(consumer)
    assert consumer.consuming == {"batch"}


def test_a_callback_left_for_a_consumer_shutting_down_does_nothing() -> None:
    gate, consumer = QueueGate("batch"), Consumer({"batch"})
    gate.start(consumer)
    assert gate.enter(1)
    consumer.task_consumer = None  # Tasks.shutdown, before the hub runs what is left
    consumer.run(reverse=False)
    assert consumer.consuming == {"batch"} and not gate.cancelled
