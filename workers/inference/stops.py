"""Stop strings in streamed text: where one begins, and how much of the end to hold back."""

from __future__ import annotations


def first_stop(text: str, stop: list[str]) -> int | None:
    """Where the earliest stop string begins in ``text``, if one is there."""
    found = [index for index in (text.find(s) for s in stop) if index >= 0]
    return min(found) if found else None


def stop_prefix_length(text: str, stop: list[str]) -> int:
    """The length of the longest end of ``text`` that could still grow into a stop string."""
    longest = 0
    for s in stop:
        for size in range(min(len(s) - 1, len(text)), longest, -1):
            if text.endswith(s[:size]):
                longest = size
                break
    return longest
