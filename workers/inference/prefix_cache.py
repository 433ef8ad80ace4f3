"""Which sequence ids of the engine's context are free, and what finished ones still hold.

A finished reply's sequence keeps its KV cells (``keep``) until its id is needed, least
recently used first; then its state moves to host memory (a byte-bounded LRU,
KV_HOST_CACHE_MB) instead of being lost. A newcomer (``place``) starts from the longest prefix
of its prompt that any sequence holds, on the context or in host memory:
- a chat's next turn (a prompt that holds all of an idle sequence's prompt) takes that
  sequence over, cutting what follows the shared part (a reply that tokenizes otherwise);
- a prefix shared with another chat (the system prompt, few-shot examples) is copied from that
  sequence's stream and cut after the shared part, so the other chat keeps its cache;
- a sequence saved to host memory is loaded back into a free id.
"""

from __future__ import annotations

import ctypes
import logging
from collections import OrderedDict
from dataclasses import dataclass

import llama_cpp

logger = logging.getLogger(__name__)
# A shared prefix is copied from its stream when it is at least this long, else evaluated anew.
# A copy is of a whole stream (every cell of n_ctx_seq, at the next decode: a memory copy).
# Measured on two cores with SmolLM2-135M: a 2,048-cell stream (47 MB) copies in 8-10 ms, and
# a prompt token costs ~3 ms to evaluate, so a copy costs about 3 tokens per 2,048 cells (less
# for bigger models: their KV bytes per token are smaller against their weights). Prefixes of
# at least one token per COPY_CELLS_PER_TOKEN cells (2.7x that cost), and MIN_COPY_TOKENS, are
# copied: 8 tokens at 2k cells, 16 at 4k, 128 at 32k.
MIN_COPY_TOKENS = 8
COPY_CELLS_PER_TOKEN = 256
MIN_SAVED_TOKENS = 64  # shorter sequences are not worth host memory


def min_copy_tokens(n_ctx_seq: int) -> int:
    """The shortest shared prefix worth a copy of a stream of ``n_ctx_seq`` cells."""
    return max(MIN_COPY_TOKENS, n_ctx_seq // COPY_CELLS_PER_TOKEN)


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass
class Saved:
    tokens: list[int]
    data: ctypes.Array[ctypes.c_uint8]
    size: int


class PrefixCache:
    def __init__(
        self, ctx: llama_cpp.llama_context_p, n_seq_max: int, host_bytes: int, min_copy: int
    ) -> None:
        self.ctx = ctx
        self.min_copy = min_copy  # min_copy_tokens of the context's streams
        self.memory = llama_cpp.llama_get_memory(ctx)
        self.host_bytes = host_bytes
        self.free = list(range(n_seq_max))
        self.idle: OrderedDict[int, list[int]] = OrderedDict()  # least recently used first
        self.asked: dict[int, int] = {}  # an idle sequence's prompt length
        self.saved: OrderedDict[int, Saved] = OrderedDict()  # host memory, by a running key
        self._saved_key = 0
        self.evaluated_tokens = 0  # prompt tokens placed that the cache did not hold
        self.reused_tokens = 0  # prompt tokens not evaluated thanks to the cache
        self.restored = 0  # sequences loaded back from host memory
        self.moves = 0  # running sequences moved next to the others (layout.py)

    def place(
        self, prompt: list[int], live: dict[int, list[int]], near: list[int]
    ) -> tuple[int, int]:
        """A sequence id for this prompt and how many of its tokens are already in the cache;
        a new id is the first of ``near`` that is free, else the lowest free."""
        seq_id, shared = self._place(prompt, live, near)
        self.evaluated_tokens += len(prompt) - shared
        return seq_id, shared

    def _place(
        self, prompt: list[int], live: dict[int, list[int]], near: list[int]
    ) -> tuple[int, int]:
        # At least the last two tokens are evaluated again: the last for its logits, and one
        # more because llama.cpp computes a one-token batch by another kernel than a longer
        # one (rounding differs), and a prompt evaluated cold never ends in a one-token chunk.
        # So a reply from a cached prefix equals the reply from a cold prompt.
        usable = len(prompt) - 2
        idle_id, idle_shared = best_match(prompt, self.idle, usable)
        live_id, live_shared = best_match(prompt, live, usable)
        saved_key, saved_shared = best_match(
            prompt, {k: s.tokens for k, s in self.saved.items()}, usable
        )
        if idle_id is not None and idle_shared >= max(live_shared, saved_shared):
            if idle_shared >= self.asked[idle_id]:  # all it was asked: its own next turn
                del self.idle[idle_id]
                return self._reuse(idle_id, idle_shared)
            if not self.free:
                tokens = self.idle.pop(idle_id)  # no id to copy into: the other chat's
                self._save(idle_id, tokens)  # state goes to host memory first
                return self._reuse(idle_id, idle_shared)
            if idle_shared > live_shared:
                live_id, live_shared = idle_id, idle_shared  # copied: the other chat keeps it
        if saved_key is not None and saved_shared >= max(live_shared, self.min_copy):
            saved = self.saved.pop(saved_key)
            seq_id = self._new_id(near)
            if self._restore(saved, seq_id):
                return self._reuse(seq_id, saved_shared)
            return seq_id, 0
        seq_id = self._new_id(near)
        if live_id is not None and live_shared >= self.min_copy:
            # each sequence has a KV stream of its own: the copy is of the whole stream (done
            # at the next decode), then what follows the shared part is cut
            llama_cpp.llama_memory_seq_cp(self.memory, live_id, seq_id, -1, -1)
            return self._reuse(seq_id, live_shared)
        return seq_id, 0

    def keep(self, seq_id: int, tokens: list[int], asked: int) -> None:
        """A sequence whose reply ended: its cells stay for a later prompt that shares them.
        ``asked``: its prompt's length (a prompt that shares all of it is the chat's next turn)."""
        if tokens:
            self.idle[seq_id] = tokens
            self.asked[seq_id] = asked
            self.idle.move_to_end(seq_id)
        else:
            self.release(seq_id)

    def release(self, seq_id: int) -> None:
        """A sequence's id, cells dropped, back to the free list."""
        llama_cpp.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        self.idle.pop(seq_id, None)
        self.free.append(seq_id)

    def forget(self) -> None:
        """Drops every idle and saved sequence (the next prompts start cold)."""
        for seq_id in list(self.idle):
            self.release(seq_id)
        self.saved.clear()

    def move(self, src: int, dst: int) -> None:
        """Moves a running sequence to ``dst`` (free, or idle: its chat goes to host memory):
        a copy of the whole stream at the next decode (layout.py)."""
        if dst in self.idle:
            self._save(dst, self.idle.pop(dst))
            llama_cpp.llama_memory_seq_rm(self.memory, dst, -1, -1)
        else:
            self.free.remove(dst)
        llama_cpp.llama_memory_seq_cp(self.memory, src, dst, -1, -1)
        llama_cpp.llama_memory_seq_rm(self.memory, src, -1, -1)
        self.free.append(src)
        self.moves += 1

    def _reuse(self, seq_id: int, shared: int) -> tuple[int, int]:
        llama_cpp.llama_memory_seq_rm(self.memory, seq_id, shared, -1)
        self.reused_tokens += shared
        return seq_id, shared

    def _new_id(self, near: list[int]) -> int:
        for seq_id in near:
            if seq_id in self.free:
                self.free.remove(seq_id)
                return seq_id
        if not self.free:
            if not self.idle:
                raise RuntimeError("every sequence id of the context is in use")
            seq_id, tokens = self.idle.popitem(last=False)
            self._save(seq_id, tokens)
            self.release(seq_id)
        self.free.sort()  # the lowest: live sequences' ids stay close together (one pass)
        return self.free.pop(0)

    def _save(self, seq_id: int, tokens: list[int]) -> None:
        """Moves an evicted sequence's state to host memory, oldest saved ones out first."""
        if len(tokens) < MIN_SAVED_TOKENS or self.host_bytes <= 0:
            return
        size = llama_cpp.llama_state_seq_get_size(self.ctx, seq_id)
        if size > self.host_bytes:
            return
        while self.saved and sum(s.size for s in self.saved.values()) + size > self.host_bytes:
            self.saved.popitem(last=False)
        data = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(self.ctx, data, size, seq_id)
        if written:
            self._saved_key += 1
            self.saved[self._saved_key] = Saved(tokens, data, written)

    def _restore(self, saved: Saved, seq_id: int) -> bool:
        if llama_cpp.llama_state_seq_set_data(self.ctx, saved.data, saved.size, seq_id) == 0:
            logger.warning("could not load a saved sequence back; evaluating its prompt anew")
            llama_cpp.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
            return False
        self.restored += 1
        return True


def best_match(
    prompt: list[int], candidates: dict[int, list[int]], usable: int
) -> tuple[int | None, int]:
    """The candidate sharing the longest prefix with the prompt, and that length."""
    best_id, best = None, 0
    for key, tokens in candidates.items():
        shared = min(common_prefix(tokens, prompt), usable)
        if shared > best:
            best_id, best = key, shared
    return best_id, best
