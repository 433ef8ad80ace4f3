"""Token-based chunking with overlap, within one section so citations keep page and heading.

Paragraphs (blank-line separated) are packed whole into chunks of at most ``size`` tokens;
a paragraph longer than that is cut into windows that overlap by ``overlap`` tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from workers.ingest.extract import Section

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _windows(text: str, offsets: list[tuple[int, int]], size: int, step: int) -> Iterator[str]:
    start = 0
    while True:
        window = offsets[start : start + size]
        yield text[window[0][0] : window[-1][1]]
        if start + size >= len(offsets):
            return
        start += step


def chunk_sections(
    sections: list[Section], tokenizer: Any, *, size: int, overlap: int
) -> Iterator[tuple[Section, str]]:
    """Yields (section, chunk text) pairs in document order."""
    step = max(1, size - overlap)
    for section in sections:
        packed: list[str] = []
        packed_tokens = 0
        for raw in _PARAGRAPH_BREAK.split(section.text):
            paragraph = " ".join(raw.split())
            if not paragraph:
                continue
            offsets = tokenizer(paragraph, add_special_tokens=False, return_offsets_mapping=True)[
                "offset_mapping"
            ]
            if packed and packed_tokens + len(offsets) > size:
                yield section, " ".join(packed)
                packed, packed_tokens = [], 0
            if len(offsets) > size:
                for window in _windows(paragraph, offsets, size, step):
                    yield section, window
                continue
            packed.append(paragraph)
            packed_tokens += len(offsets)
        if packed:
            yield section, " ".join(packed)
