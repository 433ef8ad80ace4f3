"""Appends a reply's tokens to its Redis stream: ``TokenWriter`` keeps one reply's writes whole
and idempotent, ``run_writes`` runs many replies' writes in one round trip.

The engine decodes in a thread of its own and releases the GIL inside llama.cpp, so Redis round
trips cost decoding nothing. The worker's flusher thread (token_flusher.py) takes every reply's
pieces once per flush interval (STREAM_FLUSH_MS; the first piece and the end at once) and writes
them all in one script call, which leaves the CPU to the model; a reply whose output is screened
piece by piece is written from its job's thread instead (`Reply.batches`). Cancellation does not
wait for a write: the worker's cancel listener (cancel_listener.py) hears the reply's channel and
the engine sees its flag before the next token.

Redis going away (a restart) stops neither: generation goes on, and the first write that
succeeds afterwards appends "reset" and the whole text so far, so a client never keeps a text
with a hole in it (the tokens of the failed writes may or may not have reached the stream).
Each write carries a marker of its own, so the client's retry of a write that Redis ran but
whose reply the restart lost appends nothing twice (app/streams.py).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

import redis

from app.streams import TokenStreams, TokenWrite
from workers.inference.cancel_listener import watch_cancel

logger = logging.getLogger(__name__)
RETRY_S = 0.5  # how often a writer behind at the end tries Redis again
CATCH_UP_S = 30.0  # how long a writer behind at the end keeps trying before it gives up


def run_writes(writes: list[TokenWrite]) -> list[bool | Exception]:
    """Runs ``writes`` in one round trip per Redis client (a worker's replies share one): for
    each, whether its reply's cancel was asked, or the error that failed it (a lost connection
    fails every write of its round trip; each write's marker makes its retry safe)."""
    results: dict[int, bool | Exception] = {}
    by_client: dict[int, list[int]] = {}
    for index, write in enumerate(writes):
        by_client.setdefault(id(write.streams.client), []).append(index)
    for indexes in by_client.values():
        group = [writes[index] for index in indexes]
        try:
            flags: list[bool | Exception] = list(group[0].streams.append_many(group))
        except Exception as exc:  # the connection: none of them is known to have run
            flags = [exc] * len(group)
        results.update(zip(indexes, flags, strict=True))
    return [results[index] for index in range(len(writes))]


class TokenWriter:
    def __init__(
        self,
        streams: TokenStreams,
        message_id: int,
        abandoned: threading.Event | None = None,
    ) -> None:
        self.streams = streams
        self.message_id = message_id
        self.cancelled = threading.Event()
        self.abandoned = abandoned or threading.Event()  # lease lost: write nothing more
        self.behind = False  # a write failed: the stream may be missing tokens
        self.text: list[str] = []  # everything written so far, for catching up after a failure
        self._id = uuid.uuid4().hex[:12]  # this writer's, for the markers of its writes
        self._writes = 0
        self._unwatch = watch_cancel(streams, message_id, self.cancelled)

    def write(self, texts: list[str]) -> None:
        """Appends ``texts`` in one round trip (or, after a failed write, the whole text so far
        after a "reset"); a failure leaves the writer ``behind`` and raises nothing."""
        write = self.prepare(texts)
        if write is not None:
            self.settle(run_writes([write])[0])

    def prepare(self, texts: list[str]) -> TokenWrite | None:
        """``write``'s Redis write, to run with other replies' (``run_writes``), then ``settle``;
        None when there is nothing to write."""
        self.text.extend(texts)
        if self.abandoned.is_set():
            return None  # the stream belongs to the attempt that took the job over
        self._writes += 1
        marker = f"{self._id}:{self._writes}"  # a retried send of this write appends nothing
        if self.behind:  # start the text over: some earlier tokens may be missing
            texts = [text for text in ["".join(self.text)] if text]
        return self.streams.token_write(self.message_id, texts, marker=marker, reset=self.behind)

    def settle(self, result: bool | Exception) -> None:
        """The prepared write's outcome: cancel asked, or the error that left it ``behind``."""
        if not isinstance(result, Exception):
            if result:
                self.cancelled.set()
            self.behind = False
            return
        if not self.behind:  # the reply still reaches the database
            unexpected = not isinstance(result, redis.RedisError)
            logger.warning(
                "could not append tokens of message %s: %s",
                self.message_id,
                result,
                exc_info=result if unexpected else None,
            )
        self.behind = True

    def close(self) -> None:
        """Catches up a writer left behind by a failed write (or gives up after CATCH_UP_S; the
        reply still reaches the database, and the relay serves it from there)."""
        deadline = time.monotonic() + CATCH_UP_S
        while self.behind and not self.abandoned.is_set() and time.monotonic() < deadline:
            time.sleep(RETRY_S)
            self.write([])
        self._unwatch()

    def withdraw(self) -> None:
        """Takes back everything sent (the content policy stopped the reply), after ``close``:
        the stream is emptied and holds a "reset", so no client keeps or replays the text."""
        self.text = []
        if self.abandoned.is_set():
            return
        try:
            self.streams.delete(self.message_id)
            self.streams.append(self.message_id, "reset")
        except Exception as exc:  # the final event (written next) still says "filtered"
            logger.warning("could not withdraw the text of message %s: %s", self.message_id, exc)
