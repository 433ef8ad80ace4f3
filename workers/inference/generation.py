"""The generation loop that chat replies, batch items and API completions share.

The job's thread hands the prompt to the engine (which decodes it together with every other
reply of this worker) and streams the pieces that come back to Redis; a cancel reaches the
engine through the request's flag and stops the sequence at the next step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from app.streams import TokenStreams
from workers.inference.model import ChatModel, Sampling
from workers.inference.sequence import CHAT, FinishReason, Request
from workers.inference.token_writer import TokenWriter


@dataclass
class Generated:
    ending: Literal["done", "cancelled"]
    text: str = ""
    completion_tokens: int = 0
    finish_reason: FinishReason = "length"
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None


def generate_text(
    model: ChatModel,
    prompt_tokens: list[int],
    stop: list[str],
    sampling: Sampling,
    *,
    priority: int = CHAT,
    streams: TokenStreams | None,
    stream_id: int,
    flush_interval_s: float,
    grammar: str | None = None,
    abandoned: threading.Event | None = None,
) -> Generated:
    """Generates in the engine; tokens go to ``streams`` when given (else nothing is streamed).

    ``abandoned`` (the job's lease was lost: another attempt may run) stops the sequence and
    the stream writes at once, so a stale attempt never writes into the new attempt's stream.
    """
    started = time.perf_counter()
    writer = (
        TokenWriter(streams, stream_id, flush_interval_s, abandoned)
        if streams is not None
        else None
    )
    cancelled = writer.cancelled if writer is not None else threading.Event()
    request = Request(prompt_tokens, stop, sampling, priority, cancelled, grammar, abandoned)
    reply = model.engine.submit(request)
    first_token_at: float | None = None
    pieces: list[str] = []
    try:
        for text in reply:
            if first_token_at is None:
                first_token_at = time.perf_counter()
            pieces.append(text)
            if writer is not None:
                writer.put(text)
    finally:
        reply.cancel()  # no-op for a finished reply; stops the sequence if this thread failed
        if writer is not None:
            writer.close()
    finished = time.perf_counter()
    completion_tokens = reply.generated_tokens
    decode_s = finished - (first_token_at or finished)
    return Generated(
        "cancelled" if reply.finish_reason == "cancelled" else "done",
        text="".join(pieces),
        completion_tokens=completion_tokens,
        finish_reason=reply.finish_reason,
        time_to_first_token_ms=None if first_token_at is None else (first_token_at - started) * 1e3,
        tokens_per_second=(
            completion_tokens / decode_s if decode_s > 0 and completion_tokens > 1 else None
        ),
    )
