"""Who takes a place in the engine: the best priority first, and within it a light user's reply
(one with nothing running: fair sharing put it ahead); when every place is taken, a chat reply
takes a batch item's place, and a light user's reply that of the user who holds the most."""

from __future__ import annotations

from collections import Counter

from workers.inference.sequence import BATCH, Sequence


def next_in_line(waiting: list[Sequence], running: list[Sequence]) -> Sequence:
    """The first of ``waiting`` (in priority order) of the best priority, a light user's first."""
    best = [s for s in waiting if s.request.priority == waiting[0].request.priority]
    return next((s for s in best if light(s, running)), best[0])


def light(sequence: Sequence, running: list[Sequence]) -> bool:
    owner = sequence.request.owner
    return owner is not None and all(s.request.owner != owner for s in running)


def victim(newcomer: Sequence, running: list[Sequence]) -> Sequence | None:
    """The running reply that gives its place to ``newcomer``, if one should."""
    if newcomer.request.priority == BATCH:
        return None
    batch_items = [s for s in running if s.request.priority == BATCH]
    if batch_items:
        return batch_items[-1]  # the latest to start: least work waits
    if not light(newcomer, running):
        return None
    held = Counter(s.request.owner for s in running if s.request.owner is not None)
    heaviest = max(held, key=lambda owner: held[owner], default=None)
    if heaviest is None or held[heaviest] < 2:
        return None
    return [s for s in running if s.request.owner == heaviest][-1]
