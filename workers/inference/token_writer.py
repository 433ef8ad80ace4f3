"""Appends tokens to the Redis stream from a background thread, overlapping decoding.

llama.cpp releases the GIL while it computes the next token, so the Redis round trip of
the previous one costs the generation loop nothing. The same round trip reads the cancel
flag, which the loop then sees before its next token.
"""

from __future__ import annotations

import logging
import queue
import threading

from app.streams import TokenStreams

logger = logging.getLogger(__name__)
_END = object()


class TokenWriter:
    def __init__(self, streams: TokenStreams, message_id: int) -> None:
        self.streams = streams
        self.message_id = message_id
        self.cancelled = threading.Event()
        self.failed: BaseException | None = None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="token-writer")
        self._thread.start()

    def put(self, text: str) -> None:
        self._queue.put(text)

    def close(self) -> None:
        """Blocks until every token put so far is in the stream."""
        self._queue.put(_END)
        self._thread.join()

    def _run(self) -> None:
        finished = False
        while not finished:
            batch = [self._queue.get()]
            while True:  # whatever piled up while Redis answered goes in one round trip
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            finished = _END in batch
            texts = [item for item in batch if isinstance(item, str)]
            if not texts or self.failed is not None:
                continue
            try:
                if self.streams.append_tokens(self.message_id, texts):
                    self.cancelled.set()
            except Exception as exc:  # the reply still reaches the database
                logger.exception("could not append tokens of message %s", self.message_id)
                self.failed = exc
