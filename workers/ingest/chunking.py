"""Token-based chunking with overlap, within one section so citations keep page and heading."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from workers.ingest.extract import Section


def chunk_sections(
    sections: list[Section], tokenizer: Any, *, size: int, overlap: int
) -> Iterator[tuple[Section, str]]:
    """Yields (section, chunk text) windows of ``size`` tokens that overlap by ``overlap``."""
    step = max(1, size - overlap)
    for section in sections:
        text = " ".join(section.text.split())
        if not text:
            continue
        encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoding["offset_mapping"]
        if not offsets:
            continue
        start = 0
        while True:
            window = offsets[start : start + size]
            yield section, text[window[0][0] : window[-1][1]]
            if start + size >= len(offsets):
                break
            start += step
