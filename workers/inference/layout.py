"""Where the running replies' sequences sit in the context: next to each other.

Each sequence has a KV stream of its own (kv_unified off), and llama.cpp puts into one ubatch
only sequences whose ids follow each other (``llama_batch_allocr::split_equal``, sequential):
four replies in streams 0, 2, 4 and 6 are decoded in four passes over the weights per step,
not one. Measured on two cores with SmolLM2-135M, four replies of 200 tokens together: 60
tok/s in streams 0, 2, 4, 6 against 115-124 in consecutive ones (bench/layout.py). A chat's
next turn goes back to its own stream, wherever it is, and replies end in any order; so the
engine places a newcomer next to the running ones, and moves a reply that sits apart into one
run of ids with the others. A move is a copy of the stream (8-10 ms at 2,048 cells here, done
at the next decode), which the separate passes cost in one or two steps.
"""

from __future__ import annotations

# What a layout costs: a move (a copy of a whole stream) counts twice an eviction (an idle
# chat's used cells saved to host memory, from where its next turn loads them back).
MOVE_COST, EVICT_COST = 2, 1


def runs(ids: list[int]) -> int:
    """How many runs of consecutive ids: llama.cpp's passes per decode step."""
    ordered = sorted(ids)
    return sum(1 for i, seq_id in enumerate(ordered) if i == 0 or seq_id != ordered[i - 1] + 1)


def next_to(ids: list[int]) -> list[int]:
    """The ids that would extend the run of ``ids`` (after it first), for a newcomer."""
    if not ids:
        return []
    return [max(ids) + 1, min(ids) - 1]


def contiguous_moves(
    running: list[int], free: set[int], idle: set[int], n_ids: int
) -> dict[int, int]:
    """The moves (from id -> to id) that put ``running`` into one run of ids, cheapest first:
    fewest moves, then fewest idle sequences evicted, then the lowest ids. Targets are free or
    idle ids (an idle sequence there goes to host memory); {} when already one run."""
    k = len(running)
    if runs(running) <= 1:
        return {}
    held = set(running)
    best: tuple[int, int, list[int]] | None = None
    for start in range(n_ids - k + 1):
        targets = [i for i in range(start, start + k) if i not in held]
        if not all(i in free or i in idle for i in targets):
            continue
        cost = MOVE_COST * len(targets) + EVICT_COST * sum(1 for i in targets if i in idle)
        if best is None or cost < best[0]:
            best = (cost, start, targets)
    if best is None:
        return {}
    _, start, targets = best
    leaving = sorted(i for i in running if not start <= i < start + k)
    return dict(zip(leaving, targets, strict=True))
