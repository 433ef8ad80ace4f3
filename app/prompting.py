"""Builds the model input for a reply: system prompt + history trimmed to the context window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

ChatMessage = dict[str, str]


class PromptTooLong(Exception):
    """Even the newest message alone does not fit the context window."""


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


def build_chat_messages(
    history: Sequence[Turn],
    *,
    fits: Callable[[list[ChatMessage]], bool],
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
) -> list[ChatMessage]:
    """System prompt, then the longest suffix of history that fits, oldest turns dropped first.

    ``history`` ends with the user message being answered; ``fits`` says whether a
    candidate message list leaves room for the reply.
    """
    if not history or history[-1].role != "user":
        raise ValueError("history must end with a user message")
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    turns = [{"role": turn.role, "content": turn.content} for turn in history]
    start = 0
    while start < len(turns):
        candidate = system + turns[start:]
        if fits(candidate):
            return candidate
        start += 1
        while start < len(turns) - 1 and turns[start]["role"] != "user":
            start += 1  # a kept conversation starts with a user turn
    raise PromptTooLong("the message does not fit the model's context window")
