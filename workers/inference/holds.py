"""Chat jobs on their way to the engine: while a worker thread claims one and builds its prompt,
batch items sit the engine's steps out, so the claim has the cores and the chat's prompt meets no
batch step under way (chat goes before batch work from the moment its task starts, not only once
it reaches the engine). A hold lapses after HOLD_MAX_S: a slow claim never stalls batch work
for long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from workers.inference.sequence import BATCH, Sequence

# a claim and prompt take 10-50 ms here; a knowledge-base question while the embedder loads
# (seconds, once a worker starts) holds batch work this long at most
HOLD_MAX_S = 0.5


class Holds:
    def __init__(self, lock: threading.Condition, clock: Callable[[], float] = time.monotonic):
        self._lock = lock  # the engine's: its loop waits on it
        self._clock = clock
        self._since: dict[int, float] = {}  # thread id -> when its hold began
        # called under the lock as a hold begins: the step under way may end (interrupt.py)
        self.on_begin: Callable[[], None] = lambda: None

    @contextmanager
    def expecting(self) -> Iterator[None]:
        """Holds batch work from now until this thread's job reaches the engine (``arrived``)
        or the block ends, whichever comes first."""
        ident = threading.get_ident()
        with self._lock:
            self._since[ident] = self._clock()
            self.on_begin()
        try:
            yield
        finally:
            with self._lock:
                if self._since.pop(ident, None) is not None:
                    self._lock.notify_all()

    def arrived(self) -> None:
        """The calling thread's job reached the engine; called under the engine's lock."""
        self._since.pop(threading.get_ident(), None)

    def lapse_s(self) -> float | None:
        """Under the engine's lock: seconds until every live hold has lapsed; None: none holds."""
        now = self._clock()
        left = max((since + HOLD_MAX_S - now for since in self._since.values()), default=0.0)
        return left if left > 0 else None

    def await_step(self, inbox: list[Sequence], placed: Iterable[Sequence]) -> bool:
        """Under the engine's lock: waits until the engine has a step to make (a newcomer in
        ``inbox``, a chat reply, or batch items while no hold is live); whether one is live.
        One reading of the clock a pass: a hold that lapses while the engine waits ends it."""
        kinds = {sequence.request.priority == BATCH for sequence in placed}
        while True:
            lapse = self.lapse_s()
            if inbox or (kinds and (kinds != {True} or lapse is None)):
                return lapse is not None
            self._lock.wait(lapse)
