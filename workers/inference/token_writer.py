"""Appends a reply's tokens to its Redis stream, from the job's thread.

The engine decodes in a thread of its own and releases the GIL inside llama.cpp, so Redis round
trips cost decoding nothing. The job's thread gets the tokens in batches (the first at once,
then at most one batch per flush interval, STREAM_FLUSH_MS: `Reply.batches`) and writes each
batch in one round trip, which leaves the CPU to the model. Cancellation does not wait for a
write: a watcher thread listens on the reply's cancel channel and the engine sees its flag
before the next token.

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

from app.streams import TokenStreams

logger = logging.getLogger(__name__)
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
        self._watcher = CancelWatcher(streams, message_id, self.cancelled)
        self._watcher.start()

    def write(self, texts: list[str]) -> None:
        """Appends ``texts`` in one round trip (or, after a failed write, the whole text so far
        after a "reset"); a failure leaves the writer ``behind`` and raises nothing."""
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

    def close(self) -> None:
        """Catches up a writer left behind by a failed write (or gives up after CATCH_UP_S; the
        reply still reaches the database, and the relay serves it from there)."""
        deadline = time.monotonic() + CATCH_UP_S
        while self.behind and not self.abandoned.is_set() and time.monotonic() < deadline:
            time.sleep(RETRY_S)
            self.write([])
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
