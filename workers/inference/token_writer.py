"""Appends tokens to the Redis stream from a background thread, overlapping decoding.

llama.cpp releases the GIL while it computes the next token, so Redis round trips cost the
generation loop nothing. The first token is the exception: the generation loop writes it
itself, before it decodes the next one, so that a client sees it at once. After it, writes are
rate-limited (at most one round trip per flush interval, STREAM_FLUSH_MS, carries whatever
piled up), which leaves the CPU to the model. Cancellation does not wait for a write: a
watcher thread listens on the reply's cancel channel and the generation loop sees its flag
before the next token.

Redis going away (a restart) stops neither: generation goes on, and the first write that
succeeds afterwards appends "reset" and the whole text so far, so a client never keeps a text
with a hole in it (the tokens of the failed writes may or may not have reached the stream).
Each write carries a marker of its own, so the client's retry of a write that Redis ran but
whose reply the restart lost appends nothing twice (app/streams.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid

import redis

from app.streams import TokenStreams

logger = logging.getLogger(__name__)
_END = object()
RETRY_S = 0.5  # how often the cancel watcher, and a writer behind at the end, try Redis again
CATCH_UP_S = 30.0  # how long a writer behind at the end keeps trying before it gives up


class CancelWatcher(threading.Thread):
    """Sets ``cancelled`` when the API publishes a cancel for this reply (or already flagged it)."""

    def __init__(self, streams: TokenStreams, message_id: int, cancelled: threading.Event):
        super().__init__(daemon=True, name="cancel-watcher")
        self.streams = streams
        self.message_id = message_id
        self.cancelled = cancelled
        self.stopped = threading.Event()
        self.pubsub = streams.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]

    def run(self) -> None:
        """Subscribes here, off the generation loop's path to its first token; the flag check
        after subscribing catches a cancel sent before (the API sets it before publishing)."""
        try:
            while not self.stopped.is_set() and not self.cancelled.is_set():
                try:
                    self.watch()
                except redis.RedisError as exc:  # pub/sub subscribes again when it reconnects
                    logger.warning(
                        "cancel watcher of %s: Redis unavailable: %s", self.message_id, exc
                    )
                    self.stopped.wait(RETRY_S)
        finally:
            self.pubsub.close()

    def watch(self) -> None:
        if not self.pubsub.subscribed:
            self.pubsub.subscribe(self.streams.cancel_channel(self.message_id))
        if self.streams.cancel_requested(self.message_id):
            self.cancelled.set()
        while not self.stopped.is_set() and not self.cancelled.is_set():
            if self.pubsub.get_message(timeout=0.5) is not None:
                self.cancelled.set()


class TokenWriter:
    def __init__(
        self,
        streams: TokenStreams,
        message_id: int,
        flush_interval_s: float,
        abandoned: threading.Event | None = None,
    ) -> None:
        self.streams = streams
        self.flush_interval_s = flush_interval_s
        self.message_id = message_id
        self.cancelled = threading.Event()
        self.abandoned = abandoned or threading.Event()  # lease lost: write nothing more
        self.behind = False  # a write failed: the stream may be missing tokens
        self.text: list[str] = []  # everything put so far, for catching up after a failure
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._first = True
        self._id = uuid.uuid4().hex[:12]  # this writer's, for the markers of its writes
        self._writes = 0
        self._last_write = 0.0
        self._watcher = CancelWatcher(streams, message_id, self.cancelled)
        self._watcher.start()
        self._thread = threading.Thread(target=self._run, daemon=True, name="token-writer")
        self._thread.start()

    def put(self, text: str) -> None:
        """The first token is written here and now; later ones go through the writer thread.

        Handing the first token to a thread costs milliseconds on a small machine: llama.cpp's
        threads already hold every core for the next token, and the writer waits its turn.
        """
        if self._first:
            self._first = False
            self._write([text])
            return
        self._queue.put(text)

    def close(self) -> None:
        """Blocks until every token put so far is in the stream (or Redis stayed away for
        CATCH_UP_S; the reply still reaches the database, and the relay serves it from there)."""
        self._queue.put(_END)
        self._thread.join()
        deadline = time.monotonic() + CATCH_UP_S
        while self.behind and not self.abandoned.is_set() and time.monotonic() < deadline:
            time.sleep(RETRY_S)
            self._write([])
        self._watcher.stopped.set()

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

    def _drain(self, batch: list[object]) -> None:
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def _write(self, texts: list[str]) -> None:
        self.text.extend(texts)
        if self.abandoned.is_set():
            return  # the stream belongs to the attempt that took the job over
        self._writes += 1
        marker = f"{self._id}:{self._writes}"  # a retried send of this write appends nothing
        try:
            if self.behind:  # start the text over: some earlier tokens may be missing
                texts = [text for text in ["".join(self.text)] if text]
            if self.streams.append_tokens(
                self.message_id, texts, marker=marker, reset=self.behind
            ):
                self.cancelled.set()
            self.behind = False
        except Exception as exc:  # the reply still reaches the database
            if not self.behind:
                unexpected = not isinstance(exc, redis.RedisError)
                logger.warning(
                    "could not append tokens of message %s: %s",
                    self.message_id,
                    exc,
                    exc_info=unexpected,
                )
            self.behind = True
        self._last_write = time.monotonic()

    def _run(self) -> None:
        finished = False
        while not finished:
            batch = [self._queue.get()]
            wait = self._last_write + self.flush_interval_s - time.monotonic()
            if wait > 0 and _END not in batch:
                time.sleep(wait)  # let tokens gather: one round trip for several
            self._drain(batch)
            finished = _END in batch
            texts = [item for item in batch if isinstance(item, str)]
            if texts:
                self._write(texts)
