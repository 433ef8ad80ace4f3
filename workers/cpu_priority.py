"""The model's compute runs below the work that answers requests.

On a machine with as many cores as the model has threads, llama.cpp's threads (the engine's and
its OpenMP team) and the embedder's keep every core busy, and the web, Redis and a worker's job
threads wait for a core at each step they take: during a batch, a chat's POST, its claim and the
relay of its first token each took 5-12 ms longer than on an idle queue (bench/priority.py). With
the compute at a higher nice value (COMPUTE_NICE, 5 by default), the scheduler lets that short
work in first; the compute keeps every cycle nothing else wants. Ingest workers run at the same
value as the engine, so a document being embedded shares the cores with replies as before.

On Linux a nice value belongs to a thread, and threads inherit their creator's: raising it in a
thread before it starts llama.cpp's or torch's thread team covers the team too. A value above
the configured one (a worker started under ``nice``) is kept; raising needs no privilege.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def lower_thread_priority(nice: int) -> None:
    """Runs the calling thread, and the threads it starts from now on, at ``nice`` at least."""
    if nice > os.getpriority(os.PRIO_PROCESS, 0):  # 0: the calling thread (Linux)
        os.setpriority(os.PRIO_PROCESS, 0, nice)


def at_nice(nice: int, target: Callable[[], None]) -> Callable[[], None]:
    """``target`` run in a thread at ``nice`` (a thread's target)."""

    def run() -> None:
        lower_thread_priority(nice)
        target()

    return run
