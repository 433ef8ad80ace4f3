"""The engine: one llama context, many replies at once (continuous batching).

One thread owns the context. Each step it builds one ``llama_batch``: the next token of every reply
that is generating, plus a chunk of the prompt of newcomers (small while others stream, so they
keep flowing), decodes it once, and samples each reply's token with that reply's own sampler chain.
Replies join and leave between steps. Chat work comes first: when every place is taken and a chat
reply waits, a batch item is suspended (its KV cache, sampler and text kept) and resumes when a
place frees; batch items sit out a chat's claim and prompt (holds.py), and a step of batch items
under way when a chat's claim begins ends early (interrupt.py). Users share the places: a
reply of a user with nothing running takes the place of the latest reply of the user who holds the
most (the fair-sharing reserve lets it reach the engine, workers/inference/fair.py). A cancelled
reply leaves at the next step.

Each sequence has a KV stream of its own (a full context window; twice as many streams as places),
so its attention sums in the same order alone or beside others: concurrent replies equal
one-at-a-time ones. Running replies sit in consecutive ids, moved there when they do not (llama.cpp
decodes only consecutive sequences in one pass: layout.py). A finished reply's stream stays cached
for the next prompt that shares its prefix (prefix_cache.py): a chat's next turn evaluates only
what is new, and a system prompt or few-shot prefix is copied from a stream that holds it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass

import llama_cpp

from workers.inference.holds import Holds
from workers.inference.interrupt import ABORTED, StepInterrupt
from workers.inference.layout import contiguous_moves, next_to, runs
from workers.inference.places import next_in_line, victim
from workers.inference.prefix_cache import PrefixCache, min_copy_tokens
from workers.inference.sampler import SequenceSampler, best_tokens
from workers.inference.sequence import (
    BATCH,
    FinishReason,
    Reply,
    Request,
    Sequence,
    Vocabulary,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    n_parallel: int  # replies decoded together
    n_ctx_seq: int  # the context window of one reply
    n_batch: int  # tokens per decode step at most
    n_threads: int
    prefill_chunk: int = 64  # a newcomer's prompt tokens per step while others stream
    host_cache_bytes: int = 0  # evicted sequences kept in host memory
    reserve: int = 0  # replies beyond the places that may wait suspended (fair sharing)
    compact: bool = True  # move running replies next to each other (off: bench/layout.py)


class Engine:
    def __init__(self, model: llama_cpp.llama_model_p, config: EngineConfig) -> None:
        self.config = config
        params = llama_cpp.llama_context_default_params()
        # A KV stream per sequence, each a full window, twice the places (and the reserve): finished
        # replies stay cached, suspended ones keep theirs, attention sums as if alone.
        self.n_seq_max = min(
            2 * config.n_parallel + config.reserve, llama_cpp.llama_max_parallel_sequences()
        )
        params.n_ctx = self.n_cells = config.n_ctx_seq * self.n_seq_max
        params.n_batch = params.n_ubatch = config.n_batch
        params.n_seq_max = self.n_seq_max
        params.kv_unified = False
        params.n_threads = params.n_threads_batch = config.n_threads
        params.no_perf = True
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise RuntimeError("could not create the llama context")
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self.batch = llama_cpp.llama_batch_init(config.n_batch, 0, 1)
        self.cache = PrefixCache(
            self.ctx, self.n_seq_max, config.host_cache_bytes, min_copy_tokens(config.n_ctx_seq)
        )
        self.words = Vocabulary(self.vocab)
        self._lock = threading.Condition()
        self.holds = Holds(self._lock)  # chat jobs on their way in: batch items sit out
        self.interrupt = StepInterrupt(self.ctx, self._lock, self.holds)
        self.items_stepped = True  # batch items made a whole step since one was ended early
        self._inbox: list[Sequence] = []
        self.waiting: list[Sequence] = []  # admitted order: priority, then arrival
        self.running: list[Sequence] = []
        self.suspensions = 0  # replies that gave their place to another's
        self.step_times: deque[tuple[int, float]] = deque(maxlen=10_000)  # drained: metrics
        threading.Thread(target=self._loop, daemon=True, name="engine").start()

    def submit(self, request: Request) -> Reply:
        """Queues a reply; its pieces come out of the returned Reply as they are sampled."""
        reply = Reply(request)
        budget = min(request.sampling.max_tokens, self.config.n_ctx_seq - len(request.prompt))
        sampler = SequenceSampler(self.vocab, request.sampling, request.grammar)
        sequence = Sequence(-1, reply, sampler, budget)
        with self._lock:
            self.holds.arrived()
            self._inbox.append(sequence)
            self._lock.notify()
        return reply

    @property
    def busy(self) -> int:
        """Replies admitted or waiting (for metrics and for the batch gate)."""
        with self._lock:
            return len(self.running) + len(self.waiting) + len(self._inbox)

    def _loop(self) -> None:
        while True:
            with self._lock:
                held = self.holds.await_step(self._inbox, self.running + self.waiting)
                arrived, self._inbox = self._inbox, []
            try:
                self._step(arrived, held)
            except Exception:
                logger.exception("engine step failed; its replies end")
                for sequence in self.running + self.waiting:
                    self._end(sequence, "length")
                self.running, self.waiting = [], []
                time.sleep(0.1)

    def _step(self, arrived: list[Sequence], held: bool) -> None:
        for sequence in arrived:
            if sequence.finish_reason is not None:  # no room for a single token
                sequence.finish(sequence.finish_reason)
                continue
            self.waiting.append(sequence)
        self.waiting.sort(key=lambda s: s.request.priority)  # stable: arrival within a priority
        for sequence in [s for s in self.running + self.waiting if s.request.stopped()]:
            self._leave(sequence, "cancelled")
        self._admit()
        if self.config.compact:
            self._compact()
        planned = self._plan(held)
        if not planned:
            return
        if not self._decode(planned):
            return
        outputs = [(s, output) for s, _, output in planned if output is not None]
        best = best_tokens(self.ctx, [s.sampler.greedy for s, _ in outputs], len(self.words.pieces))
        for sequence, chunk, _ in planned:
            sequence.cached += chunk
        for (sequence, output), token in zip(outputs, best, strict=True):
            token = sequence.sampler.sample(self.ctx, output, token)
            sequence.accept(token, self.words)
            if sequence.finish_reason is not None:
                self._leave(sequence, sequence.finish_reason)

    def _admit(self) -> None:
        """Fills free places in priority order. When every place is taken, a waiting chat reply
        suspends a batch item, and a reply of a user with nothing running suspends one of the
        replies of the user who holds the most places (two at least)."""
        while self.waiting:
            newcomer = next_in_line(self.waiting, self.running)
            placed = sum(s.seq_id >= 0 for s in self.running + self.waiting)
            if newcomer.seq_id < 0 and placed >= self.n_seq_max:
                return  # every KV stream holds a running or suspended reply
            if len(self.running) >= self.config.n_parallel:
                suspended = victim(newcomer, self.running)
                if suspended is None:
                    return
                self.suspensions += 1
                self.running.remove(suspended)
                self.waiting = sorted([*self.waiting, suspended], key=lambda s: s.request.priority)
                logger.info("sequence %d waits for another's reply", suspended.seq_id)
            self.waiting.remove(newcomer)
            if newcomer.seq_id < 0:
                self._place(newcomer)
            self.running.append(newcomer)

    def owners(self) -> tuple[Counter[int], bool]:
        """Replies per user in the engine (running or waiting), and whether a light user's
        newcomer would find a place to take (some user runs two replies or more)."""
        with self._lock:
            inside = [s.request for s in self.running + self.waiting + self._inbox]
            running = [s.request.owner for s in self.running]
        held = Counter(r.owner for r in inside if r.owner is not None)
        counts = Counter(owner for owner in running if owner is not None)
        return held, any(n >= 2 for n in counts.values())

    def _place(self, sequence: Sequence) -> None:
        """Gives a newcomer a sequence id, starting from the longest cached prefix of its prompt."""
        placed = [s for s in self.running + self.waiting if s.seq_id >= 0]
        live = {s.seq_id: s.tokens[: s.cached] for s in placed}
        near = next_to([s.seq_id for s in self.running])
        seq_id, reused = self.cache.place(sequence.tokens, live, near)
        sequence.seq_id = seq_id
        sequence.cached = reused

    def _compact(self) -> None:
        """Moves running replies that sit apart next to each other (layout.py); not while a
        prompt is evaluated (the copies would delay its first token), nor a reply with fewer
        tokens left than the shortest prefix worth a copy."""
        by_id = {s.seq_id: s for s in self.running}
        if runs(list(by_id)) <= 1 or any(s.pending > 1 for s in self.running):
            return  # the usual step: nothing else to look at
        cache = self.cache
        moves = contiguous_moves(list(by_id), set(cache.free), set(cache.idle), self.n_seq_max)
        if any(by_id[i].budget - by_id[i].generated < cache.min_copy for i in moves):
            return
        for src, dst in moves.items():
            cache.move(src, dst)
            by_id[src].seq_id = dst

    def _plan(self, held: bool) -> list[tuple[Sequence, int, int | None]]:
        """The batch: (sequence, tokens it adds, its output index when it samples after). Room goes
        to generating replies first, then to prompt chunks (short while others stream). While a
        chat's prompt waits or a chat job is on its way in (holds.py), batch items sit the step
        out: its first token costs a step of chat work only. Tokens go by ascending sequence id:
        llama.cpp computes in one pass only sequences whose ids follow each other (layout.py)."""
        room = self.config.n_batch
        chats = [s for s in self.running if s.request.priority != BATCH]
        # a chat that found no place waits for batch items to end: they go on
        held = held and all(s.request.priority == BATCH for s in self.waiting)
        stepping = chats if held or any(s.pending > 1 for s in chats) else self.running
        streaming = any(s.pending == 1 for s in stepping)
        chunks: dict[int, int] = {}
        for sequence in sorted(stepping, key=lambda s: s.pending):  # decoders first
            if room <= 0:
                break
            chunk = min(sequence.pending, room)
            if streaming and sequence.pending > 1:
                chunk = min(chunk, self.config.prefill_chunk)
            chunks[id(sequence)] = chunk
            room -= chunk
        batch = self.batch
        planned: list[tuple[Sequence, int, int | None]] = []
        n = 0
        for sequence in sorted(self.running, key=lambda s: s.seq_id):
            chunk = chunks.get(id(sequence), 0)
            if chunk == 0:
                continue
            for i in range(chunk):
                position = sequence.cached + i
                batch.token[n] = sequence.tokens[position]
                batch.pos[n] = position
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = sequence.seq_id
                batch.logits[n] = False
                n += 1
            samples = chunk == sequence.pending
            if samples:
                batch.logits[n - 1] = True
            planned.append((sequence, chunk, n - 1 if samples else None))
        batch.n_tokens = n
        return planned

    def _decode(self, planned: list[tuple[Sequence, int, int | None]]) -> bool:
        """One llama_decode, timed; a failure ends its replies (a KV slot is never missing). A
        step of batch items that a chat job's hold ends early is made again (interrupt.py), and
        that one whole: under a stream of chat jobs batch items still move, a step between two."""
        kinds = {s.request.priority for s, _, _ in planned}
        # batch items alone, no chat waiting for a place; never twice without a whole step between
        alone = kinds | {s.request.priority for s in self.waiting} == {BATCH}
        interruptible = alone and self.items_stepped
        started = time.perf_counter()
        if (result := self.interrupt.decode(self.batch, interruptible)) == 0:
            llama_cpp.llama_synchronize(self.ctx)  # on a GPU the decode returns before it ends
            self.step_times.append((self.batch.n_tokens, time.perf_counter() - started))
            self.items_stepped |= BATCH in kinds
            return True
        if result == ABORTED and interruptible:
            self.items_stepped = False
            return False  # its sequences are as they were before it
        logger.error("llama_decode returned %d for %d tokens", result, self.batch.n_tokens)
        for sequence, _, _ in planned:
            self._leave(sequence, "length")
        return False

    def _leave(self, sequence: Sequence, reason: FinishReason) -> None:
        for queue in (self.running, self.waiting):
            if sequence in queue:
                queue.remove(sequence)
        self._end(sequence, reason)

    def _end(self, sequence: Sequence, reason: FinishReason) -> None:
        if sequence.seq_id >= 0:
            kept = sequence.tokens[: sequence.cached]
            self.cache.keep(sequence.seq_id, kept, len(sequence.request.prompt))
        sequence.finish(reason)
