"""One thread per worker process writes the tokens of all its streamed replies to Redis.

The engine decodes every reply of the worker in one loop; the pieces it puts reach Redis here,
at the ticks of the flush clock (STREAM_FLUSH_MS, the same multiples of the monotonic clock on
every machine): at each tick this thread takes what every reply got since the last one and
writes it all in one call of the append script, each reply's part still idempotent with its
own marker (app/stream_scripts.py). The job threads sleep until their reply has ended and its
last piece is written. So a worker makes one wake-up and one Redis command a tick, not one per
reply: at 16 replies each job thread's own round trip cost 126 µs of the worker's CPU a write
against 50 µs in a pipeline, and every wake-up takes the interpreter from the engine's loop.

A reply's first piece and its end are not held for the tick: they wake this thread (through
``Request.notify``, from the engine), which then writes the replies that are new or ending.
A failed call leaves each of its writers ``behind``: its next write starts the text over
after a "reset", and the job's thread catches up after the end (``TokenWriter.close``).

Replies whose output the content policy screens piece by piece stay on their job's thread
(``Reply.batches``), as does everything when STREAM_FLUSH_MS is 0.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from app.streams import TokenWrite
from workers.inference.sequence import Reply, next_tick
from workers.inference.token_writer import TokenWriter, run_writes

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Streamed:
    """A reply this thread writes; ``done`` is set once its end is taken and all it had
    written (or failed: the writer is then ``behind``)."""

    reply: Reply
    writer: TokenWriter
    first_at: float | None = None  # perf_counter when its first piece was taken
    done: threading.Event = field(default_factory=threading.Event)


class TokenFlusher(threading.Thread):
    def __init__(self, interval_s: float) -> None:
        super().__init__(daemon=True, name="token-flusher")
        self.interval_s = interval_s
        self._streamed: list[Streamed] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def wake(self) -> None:
        """A reply got its first piece or its end (called in the engine's thread)."""
        self._wake.set()

    def stream(self, reply: Reply, writer: TokenWriter) -> Streamed:
        """Writes ``reply``'s pieces with ``writer`` from now on (its request's ``notify`` must
        be ``wake``); wait on the result's ``done``."""
        streamed = Streamed(reply, writer)
        with self._lock:
            self._streamed.append(streamed)
        self._wake.set()  # pieces put before it was here
        return streamed

    def run(self) -> None:
        tick = float("-inf")
        while True:
            with self._lock:
                idle = not self._streamed
            self._wake.wait(None if idle else max(0.0, tick - time.monotonic()))
            self._wake.clear()  # before taking: a wake-up after this is for something new
            now = time.monotonic()
            on_tick = now >= tick
            if on_tick:
                tick = next_tick(now, self.interval_s)
            with self._lock:
                streamed = list(self._streamed)
            if not on_tick:  # woken: only the replies with a first piece or an end
                streamed = [s for s in streamed if s.first_at is None or s.reply.ending]
            try:
                self.flush(streamed)
            except Exception:  # a bug, not Redis (run_writes returns its errors): go on
                logger.exception("the token flusher failed a pass")

    def flush(self, streamed: list[Streamed]) -> None:
        """Takes each reply's new pieces and writes them all in one round trip."""
        writes: list[tuple[TokenWriter, TokenWrite]] = []
        over: list[Streamed] = []
        for entry in streamed:
            batch = entry.reply.take()
            if batch:
                if entry.first_at is None:
                    entry.first_at = time.perf_counter()
                write = entry.writer.prepare(batch)
                if write is not None:
                    writes.append((entry.writer, write))
            if entry.reply.over:
                over.append(entry)
        if writes:
            results = run_writes([write for _writer, write in writes])
            for (writer, _write), result in zip(writes, results, strict=True):
                writer.settle(result)
        if over:
            with self._lock:
                self._streamed = [entry for entry in self._streamed if entry not in over]
            for entry in over:
                entry.done.set()


_flushers: dict[tuple[int, float], TokenFlusher] = {}
_flushers_lock = threading.Lock()


def token_flusher(interval_s: float) -> TokenFlusher:
    """This process's flusher for ``interval_s`` (started on first use; a forked child starts
    its own, as threads do not survive a fork)."""
    key = (os.getpid(), interval_s)
    with _flushers_lock:
        flusher = _flushers.get(key)
        if flusher is None:
            flusher = _flushers[key] = TokenFlusher(interval_s)
            flusher.start()
        return flusher
