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

from app.content_policy import ContentPolicy
from app.streams import TokenStreams
from workers.inference.model import ChatModel, Sampling
from workers.inference.sequence import CHAT, FinishReason, Reply, Request
from workers.inference.token_flusher import token_flusher
from workers.inference.token_writer import CATCH_UP_S, TokenWriter

# output is screened over its last characters as it streams (a word or pattern longer than this
# is caught by the whole-text check at the end), and by the classifier every so many characters
SCREEN_WINDOW_CHARS = 400
CLASSIFY_EVERY_CHARS = 400


class OutputScreen:
    """The content policy on a reply's output, token by token: cheap per token (the tail of the
    text), the whole text at the end; one counted decision per reply."""

    def __init__(self, policy: ContentPolicy) -> None:
        self.policy = policy
        self.text = ""
        self.classified_at = 0
        self.reason = ""

    def blocks(self, piece: str) -> bool:
        """True when the text with ``piece`` may not pass (``piece`` is not sent)."""
        self.text += piece
        if len(self.text) - self.classified_at >= CLASSIFY_EVERY_CHARS:
            self.classified_at = len(self.text)
            decision = self.policy.decide(self.text, "output")
        else:  # the lists only, on the tail
            tail = self.text[-(SCREEN_WINDOW_CHARS + len(piece)) :]
            decision = self.policy.decide(tail, "output", classify=False)
        self.reason = decision.reason
        return decision.blocked

    def finish(self, blocked: bool) -> bool:
        """The whole text checked once more (and the decision counted); True when blocked."""
        if not blocked:
            decision = self.policy.decide(self.text, "output")
            blocked, self.reason = decision.blocked, decision.reason
        self.policy.count("output", blocked, self.reason)
        return blocked


@dataclass
class Generated:
    ending: Literal["done", "cancelled", "filtered"]
    text: str = ""
    completion_tokens: int = 0
    finish_reason: FinishReason = "length"
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None
    blocked_rule: str = ""  # "filtered": the policy's rule that stopped it


def consume(
    reply: Reply,
    flush_interval_s: float,
    screen: OutputScreen | None,
    writer: TokenWriter | None,
    pieces: list[str],
) -> tuple[float | None, bool]:
    """Takes ``reply``'s pieces on the job's thread, each screened (when ``screen``) before it
    goes into ``pieces`` and ``writer``: when the first piece came, and whether the screen
    blocked one."""
    first_token_at: float | None = None
    # one batch per flush interval (the first piece at once): one wake-up of this thread
    # and one Redis round trip for several tokens
    for batch in reply.batches(flush_interval_s):
        if first_token_at is None:
            first_token_at = time.perf_counter()
        sent: list[str] = []
        blocked = False
        for text in batch:
            if screen is not None and screen.blocks(text):
                blocked = True
                break
            sent.append(text)
        pieces += sent
        if writer is not None and sent:
            writer.write(sent)
        if blocked:
            return first_token_at, True
    return first_token_at, False


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
    policy: ContentPolicy | None = None,
    owner: int | None = None,
) -> Generated:
    """Generates in the engine; tokens go to ``streams`` when given (else nothing is streamed).

    ``abandoned`` (the job's lease was lost: another attempt may run) stops the sequence and
    the stream writes at once, so a stale attempt never writes into the new attempt's stream.
    ``policy``: output it blocks stops the reply ("filtered"); the piece that tripped it is
    never sent, and the text sent before is taken back from the stream. ``owner``: the user
    it is for (the engine shares its places between users).
    """
    screen = OutputScreen(policy) if policy is not None and policy.applies("output") else None
    blocked = False
    started = time.perf_counter()
    writer = TokenWriter(streams, stream_id, abandoned) if streams is not None else None
    cancelled = writer.cancelled if writer is not None else threading.Event()
    # the worker's one writing thread takes the pieces, unless each must be screened first
    flusher = None
    if writer is not None and screen is None and flush_interval_s > 0:
        flusher = token_flusher(flush_interval_s)
    notify = flusher.wake if flusher is not None else None
    request = Request(
        prompt_tokens, stop, sampling, priority, cancelled, grammar, abandoned, owner, notify
    )
    reply = model.engine.submit(request)
    first_token_at: float | None = None
    pieces: list[str] = []
    streamed = None
    try:
        if flusher is not None and writer is not None:
            streamed = flusher.stream(reply, writer)
            streamed.done.wait()
            first_token_at, pieces = streamed.first_at, writer.text
        else:
            first_token_at, blocked = consume(reply, flush_interval_s, screen, writer, pieces)
    finally:
        reply.cancel()  # no-op for a finished reply; stops the sequence if this thread failed
        if blocked:  # the engine's last word after the cancel: the tokens it generated
            for _unsent in reply:
                pass
        if streamed is not None:  # the flusher's last write for it, before any catching up
            streamed.done.wait(CATCH_UP_S)
        if writer is not None:
            writer.close()
    if screen is not None and (blocked or reply.finish_reason != "cancelled"):
        blocked = screen.finish(blocked)
    if blocked and writer is not None:
        writer.withdraw()
    finished = time.perf_counter()
    completion_tokens = reply.generated_tokens
    decode_s = finished - (first_token_at or finished)
    ending: Literal["done", "cancelled", "filtered"] = (
        "filtered" if blocked else "cancelled" if reply.finish_reason == "cancelled" else "done"
    )
    return Generated(
        ending,
        text="".join(pieces),
        completion_tokens=completion_tokens,
        finish_reason=reply.finish_reason,
        blocked_rule=screen.reason if blocked and screen is not None else "",
        time_to_first_token_ms=None if first_token_at is None else (first_token_at - started) * 1e3,
        tokens_per_second=(
            completion_tokens / decode_s if decode_s > 0 and completion_tokens > 1 else None
        ),
    )
