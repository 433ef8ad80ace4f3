"""One reply inside the engine: its tokens, its sampler chain in C, and its text so far.

The sampler chain is llama.cpp's own (the one create_completion builds: top-k 40, typical 1.0,
top-p, min-p 0.05, temperature, a seeded distribution; greedy at temperature 0), so sampling
reads the logits in place: no per-token copy of the vocabulary into Python. Text is decoded
incrementally: UTF-8 sequences split across tokens are held until complete, and text that may
begin a stop string is held until it is known not to.
"""

from __future__ import annotations

import codecs
import ctypes
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import llama_cpp

from workers.inference.sampler import SequenceSampler
from workers.inference.sampling import Sampling
from workers.inference.stops import first_stop, stop_prefix_length

FinishReason = Literal["stop", "length", "cancelled"]
CHAT, BATCH = 0, 1  # priorities: a chat reply takes a batch item's place


@dataclass(frozen=True)
class Finished:
    reason: FinishReason
    generated_tokens: int


@dataclass
class Request:
    """What a job asks the engine for."""

    prompt: list[int]
    stop: list[str]
    sampling: Sampling
    priority: int = CHAT
    cancelled: threading.Event = field(default_factory=threading.Event)
    grammar: str | None = None  # GBNF; sampling only ever picks tokens it allows
    abandoned: threading.Event | None = None  # the job's lease was lost: stop like a cancel
    owner: int | None = None  # the user it is for (fair sharing of the places between users)
    notify: Callable[[], None] | None = None  # called by the engine: first piece, and the end

    def stopped(self) -> bool:
        return self.cancelled.is_set() or (self.abandoned is not None and self.abandoned.is_set())


class Reply:
    """The consumer's side: pieces of text as they come, then how the reply ended."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.finish_reason: FinishReason = "length"
        self.generated_tokens = 0
        self.ended = threading.Event()  # set once the engine is done with it
        self.ending = False  # the engine has put the end (the consumer may not have taken it)
        self.over = False  # the consumer has taken the end
        self._told = False  # ``request.notify`` was called for the first piece
        self._pieces: queue.SimpleQueue[str | Finished] = queue.SimpleQueue()

    def __iter__(self) -> Iterator[str]:
        for batch in self.batches(0.0):
            yield from batch

    def batches(self, gather_s: float) -> Iterator[list[str]]:
        """The pieces in batches: the first at once, each later one at the first tick of the
        ``gather_s`` clock after the one before (or when the reply ended), holding whatever came
        meanwhile.

        The consumer (the job's thread of a reply whose output is screened piece by piece; the
        others are written by the worker's token flusher, at the same ticks) wakes once a batch,
        not once a token (it sleeps until the tick, then takes what came, waiting only when
        nothing did), and writes each batch in one round trip. The ticks are the same for every
        reply on the machine (the monotonic clock's multiples of ``gather_s``): the replies of
        a worker write together, so a web process reads them in one pass, not one per reply.
        With ``gather_s`` 0 a batch is whatever came. The end wakes it at once.
        """
        last = float("-inf")
        while not self.over:
            wait = next_tick(last, gather_s) - time.monotonic()
            if wait > 0:
                self.ended.wait(wait)
            batch = self.take(wait=True)
            if batch:
                last = time.monotonic()
                yield batch

    def take(self, wait: bool = False) -> list[str]:
        """The pieces that came since the last take (with ``wait``, at least one, or the end);
        the end, once taken, sets ``over``, ``finish_reason`` and ``generated_tokens``."""
        batch: list[str] = []
        try:
            item = self._pieces.get(block=wait)
            while not isinstance(item, Finished):
                batch.append(item)
                item = self._pieces.get_nowait()
        except queue.Empty:
            return batch
        self.over = True
        self.finish_reason = item.reason
        self.generated_tokens = item.generated_tokens
        return batch

    def cancel(self) -> None:
        """The engine drops the sequence at its next step."""
        self.request.cancelled.set()

    def put(self, item: str | Finished) -> None:
        ending = isinstance(item, Finished)
        self.ending |= ending
        self._pieces.put(item)
        notify = self.request.notify
        if notify is not None and (ending or not self._told):
            self._told = True
            notify()


class Sequence:
    """A reply's state: ``tokens`` must all be in the KV cache (the first ``cached`` are)
    before its next token is sampled."""

    def __init__(self, seq_id: int, reply: Reply, sampler: SequenceSampler, budget: int) -> None:
        self.seq_id = seq_id
        self.reply = reply
        self.request = reply.request
        self.sampler = sampler
        self.tokens = list(self.request.prompt)
        self.cached = 0
        self.generated = 0
        self.budget = budget  # max_tokens, bounded by the context window
        self.finish_reason: FinishReason | None = "length" if budget <= 0 else None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    @property
    def pending(self) -> int:
        return len(self.tokens) - self.cached

    def accept(self, token: int, words: Vocabulary) -> None:
        """A sampled token: ends the reply, or adds its text (held back near a stop string)."""
        if token in words.end:
            self.finish_reason = "stop"
            return
        self.tokens.append(token)
        self.generated += 1
        stop = self.request.stop
        self._held += self._decoder.decode(words.pieces[token])
        cut = first_stop(self._held, stop)
        if cut is not None:
            self._held = self._held[:cut]
            self.finish_reason = "stop"
            return
        keep = stop_prefix_length(self._held, stop)
        if len(self._held) > keep:
            self.reply.put(self._held[: len(self._held) - keep])
            self._held = self._held[len(self._held) - keep :]
        if self.generated >= self.budget:
            self.finish_reason = "length"

    def finish(self, reason: FinishReason) -> None:
        """Flushes the held text (unless cancelled) and tells the consumer how it ended."""
        if reason != "cancelled":
            self._held += self._decoder.decode(b"", final=True)
            if self._held:
                self.reply.put(self._held)
        self._held = ""
        self.sampler.close()
        self.reply.put(Finished(reason, self.generated))
        self.reply.ended.set()


def next_tick(after: float, interval: float) -> float:
    """The first multiple of ``interval`` on the monotonic clock later than ``after``."""
    if interval <= 0 or after == float("-inf"):
        return after
    return (math.floor(after / interval) + 1) * interval


class Vocabulary:
    """The model's tokens as text, read once: taking a token's piece or asking whether it ends
    a reply is then a lookup, not a call into llama.cpp (each call lets the worker's other
    threads take the interpreter, and at 16 replies a step's 48 such calls cost more than the
    rest of its Python)."""

    def __init__(self, vocab: llama_cpp.llama_vocab_p) -> None:
        buffer = ctypes.create_string_buffer(64)
        count = range(llama_cpp.llama_vocab_n_tokens(vocab))
        self.pieces = [token_piece(vocab, token, buffer) for token in count]
        self.end = frozenset(t for t in count if llama_cpp.llama_vocab_is_eog(vocab, t))


def token_piece(
    vocab: llama_cpp.llama_vocab_p, token: int, buffer: ctypes.Array[ctypes.c_char]
) -> bytes:
    """The token's bytes as text (special tokens rendered as nothing)."""
    n = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, False)
    if n < 0:
        bigger = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, bigger, len(bigger), 0, False)
        return bigger.raw[:n]
    return buffer.raw[:n]
