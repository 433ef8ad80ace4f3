"""The engine's sequences as gauges, its decode steps' times as a histogram, its prompt tokens
(cached or evaluated) and the steps it ended early (interrupt.py) as counters, from a thread of
its own: the step loop only appends each step's time to a bounded deque and adds to its totals
(the length of a list and an int are read without its lock; a sample a step old is fine)."""

from __future__ import annotations

import logging
import threading

from app.metrics import (
    ENGINE_SEQUENCES,
    ENGINE_STEP,
    ENGINE_STEPS_ENDED,
    PROMPT_TOKENS,
    step_size,
)
from workers.inference.engine import Engine

logger = logging.getLogger(__name__)
SAMPLE_S = 1.0


def sample(engine: Engine, counted: dict[str, int]) -> None:
    """``counted``: the cache's totals at the previous sample (this adds what came since)."""
    # each total only grows, and each is read once: no difference of two reads a step apart
    totals = (
        (PROMPT_TOKENS, "cached", "cached", engine.cache.reused_tokens),
        (PROMPT_TOKENS, "evaluated", "evaluated", engine.cache.evaluated_tokens),
        (ENGINE_STEPS_ENDED, "chat_job", "ended", engine.interrupt.ended),
    )
    for counter, label, key, total in totals:
        if total > (seen := counted.get(key, 0)):
            counter.labels(label).inc(total - seen)
            counted[key] = total
    ENGINE_SEQUENCES.labels("running").set(len(engine.running))
    ENGINE_SEQUENCES.labels("waiting").set(len(engine.waiting))
    ENGINE_SEQUENCES.labels("places").set(engine.config.n_parallel)
    while engine.step_times:
        tokens, seconds = engine.step_times.popleft()
        ENGINE_STEP.labels(step_size(tokens)).observe(seconds)


def start_engine_gauges(engine: Engine, interval_s: float = SAMPLE_S) -> threading.Event:
    """Samples every ``interval_s`` until the returned event is set."""
    stopped = threading.Event()
    counted: dict[str, int] = {}

    def run() -> None:
        while not stopped.wait(interval_s):
            try:
                sample(engine, counted)
            except OSError:  # an unwritable metrics directory must not stop the worker
                logger.warning("could not record engine gauges", exc_info=True)

    sample(engine, counted)
    threading.Thread(target=run, daemon=True, name="engine-gauges").start()
    return stopped
