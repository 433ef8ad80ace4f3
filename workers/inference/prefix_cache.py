"""Which sequence ids of the engine's context are free, and what finished ones still hold.

A finished reply's sequence keeps its KV cells (``keep``) until its id or its cells are needed,
least recently used first. A newcomer (``place``) starts from the longest prefix of its prompt
that any sequence holds: it takes an idle sequence over (cutting what follows the shared part)
or copies the stream of a live one and cuts it after the shared part.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import llama_cpp

logger = logging.getLogger(__name__)
MIN_COPY_TOKENS = 32  # shorter shared prefixes are evaluated anew (a copy is of a whole stream)


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    def __init__(self, memory: llama_cpp.llama_memory_t, n_seq_max: int, n_cells: int) -> None:
        self.memory = memory
        self.n_cells = n_cells
        self.free = list(range(n_seq_max))
        self.idle: OrderedDict[int, list[int]] = OrderedDict()  # least recently used first
        self.reused_tokens = 0  # prompt tokens not evaluated thanks to the cache (for tests)

    @property
    def idle_cells(self) -> int:
        return sum(len(tokens) for tokens in self.idle.values())

    def place(self, prompt: list[int], live: dict[int, list[int]]) -> tuple[int, int]:
        """A sequence id for this prompt and how many of its tokens are already in the cache."""
        usable = len(prompt) - 1  # the last token is evaluated again: its logits are sampled
        idle_id, idle_shared = self._best(prompt, self.idle, usable)
        live_id, live_shared = self._best(prompt, live, usable)
        if idle_id is not None and idle_shared > 0 and idle_shared >= live_shared:
            del self.idle[idle_id]
            llama_cpp.llama_memory_seq_rm(self.memory, idle_id, idle_shared, -1)
            self.reused_tokens += idle_shared
            return idle_id, idle_shared
        seq_id = self._new_id()
        if live_id is not None and live_shared >= MIN_COPY_TOKENS:
            # each sequence has a KV stream of its own: the copy is of the whole stream (done
            # at the next decode), then what follows the shared part is cut
            llama_cpp.llama_memory_seq_cp(self.memory, live_id, seq_id, -1, -1)
            llama_cpp.llama_memory_seq_rm(self.memory, seq_id, live_shared, -1)
            self.reused_tokens += live_shared
            return seq_id, live_shared
        return seq_id, 0

    def keep(self, seq_id: int, tokens: list[int]) -> None:
        """A sequence whose reply ended: its cells stay for a later prompt that shares them."""
        if tokens:
            self.idle[seq_id] = tokens
            self.idle.move_to_end(seq_id)
        else:
            self.drop(seq_id)

    def drop(self, seq_id: int) -> None:
        """Forgets a sequence's cells; an idle one's id is free again."""
        llama_cpp.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        if seq_id in self.idle:
            del self.idle[seq_id]
            self.free.append(seq_id)

    def release(self, seq_id: int) -> None:
        """A live sequence's id, cells dropped, back to the free list."""
        llama_cpp.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        self.free.append(seq_id)

    def make_room(self, wanted: int, in_use: int) -> bool:
        """Evicts idle sequences until ``wanted`` more cells fit; False when they cannot."""
        while in_use + self.idle_cells + wanted > self.n_cells:
            if not self.evict_one():
                return False
        return True

    def evict_one(self) -> bool:
        if not self.idle:
            return False
        seq_id = next(iter(self.idle))
        self.drop(seq_id)
        return True

    def _new_id(self) -> int:
        if not self.free and not self.evict_one():
            raise RuntimeError("every sequence id of the context is in use")
        return self.free.pop()

    @staticmethod
    def _best(
        prompt: list[int], candidates: dict[int, list[int]], usable: int
    ) -> tuple[int | None, int]:
        best_id, best = None, 0
        for seq_id, tokens in candidates.items():
            shared = min(common_prefix(tokens, prompt), usable)
            if shared > best:
                best_id, best = seq_id, shared
        return best_id, best
