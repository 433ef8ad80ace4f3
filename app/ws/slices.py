"""What the subscribers of a reply at one position get from one read of its stream."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from app.streams import StreamEvent


@dataclass(frozen=True)
class Slice:
    """What subscribers at one position get from one read: the frames' bytes, joined once."""

    data: bytes
    last_id: str
    last_order: tuple[int, int]
    final: bool


def slice_after(
    events: list[StreamEvent],
    orders: list[tuple[int, int]],
    frames: list[bytes],
    position: tuple[int, int],
) -> Slice | None:
    """The events after ``position``, up to and including the first final one."""
    first = bisect.bisect_right(orders, position)
    last = next((n for n in range(first, len(events)) if events[n].is_final), None)
    end = len(events) if last is None else last + 1
    if first == end:
        return None
    data = frames[first] if end - first == 1 else b"".join(frames[first:end])
    return Slice(data, events[end - 1].id, orders[end - 1], last is not None)
