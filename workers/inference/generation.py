"""The generation loop that chat replies, batch items and API completions share.

Lane switch, optional preemptible prefill, streaming with the cancel flag checked before each
piece, and the timing figures stored with every outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.streams import TokenStreams
from workers.inference.model import ChatModel, Sampling
from workers.inference.token_writer import TokenWriter

# A preemptible item evaluates its prompt in chunks this long, so that a chat reply waits for
# at most one chunk (about 40 ms on two CPU cores) rather than a whole prompt.
PREFILL_CHUNK_TOKENS = 8


@dataclass
class Generated:
    ending: Literal["done", "cancelled", "preempted"]
    text: str = ""
    completion_tokens: int = 0
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None


def generate_text(
    model: ChatModel,
    prompt_tokens: list[int],
    stop: list[str],
    sampling: Sampling,
    *,
    lane: str,
    streams: TokenStreams | None,
    stream_id: int,
    flush_interval_s: float,
    should_yield: Callable[[], bool] | None = None,
) -> Generated:
    """Generates on the lane; tokens go to ``streams`` when given (else nothing is streamed).

    ``should_yield`` (preemptible work) is asked between prompt chunks and between pieces; when
    it says so, the work stops and ends "preempted" with nothing kept.
    """
    started = time.perf_counter()
    model.use_lane(lane, prompt_tokens)
    if should_yield is not None and not model.prefill(
        prompt_tokens, should_yield, PREFILL_CHUNK_TOKENS
    ):
        return Generated("preempted")
    first_token_at: float | None = None
    pieces: list[str] = []
    ending: Literal["done", "cancelled", "preempted"] = "done"
    chunks = model.stream(prompt_tokens, stop, sampling)
    writer = TokenWriter(streams, stream_id, flush_interval_s) if streams is not None else None
    try:
        for text in chunks:
            if writer is not None and writer.cancelled.is_set():
                ending = "cancelled"
                break
            if should_yield is not None and should_yield():
                return Generated("preempted")
            if first_token_at is None:
                first_token_at = time.perf_counter()
            pieces.append(text)
            if writer is not None:
                writer.put(text)
    finally:
        chunks.close()
        if writer is not None:
            writer.close()
    finished = time.perf_counter()
    completion_tokens = model.generated_tokens
    decode_s = finished - (first_token_at or finished)
    return Generated(
        ending,
        text="".join(pieces),
        completion_tokens=completion_tokens,
        time_to_first_token_ms=None if first_token_at is None else (first_token_at - started) * 1e3,
        tokens_per_second=(
            completion_tokens / decode_s if decode_s > 0 and completion_tokens > 1 else None
        ),
    )
