"""Chats whose cached streams lie apart in an engine (for tests/workers/test_layout.py and
bench/layout.py): each chat's first turn is followed by another chat's, as a team's chats are
when their next turns come in another order than their first."""

from __future__ import annotations

from dataclasses import dataclass

from workers.inference.engine import Engine
from workers.inference.model import ChatModel, Sampling
from workers.inference.sequence import Request

FIRST_TURN = Sampling(40, 0.0, 1.0, 1)


def ask(topic: str) -> dict[str, str]:
    return {"role": "user", "content": f"Write a long and detailed story about {topic}."}


@dataclass
class SecondTurns:
    prompts: list[list[int]]  # each chat's second turn, history and all
    stop: list[str]
    firsts: list[list[int]]  # each chat's first prompt
    own: list[int]  # the ids of the streams that hold the chats


def second_turns(
    model: ChatModel, engine: Engine, topics: list[str], apart: bool = True
) -> SecondTurns:
    """Each chat's first turn on a cache emptied first (then another chat's when ``apart``)."""
    prompts, firsts, stop = [], [], []
    engine.cache.forget()
    for i, topic in enumerate(topics):
        tokens, stop = model.encode([ask(topic)])
        answer = "".join(engine.submit(Request(tokens, stop, FIRST_TURN)))
        if apart:
            other, _ = model.encode([{"role": "user", "content": f"Count to {i + 3}."}])
            "".join(engine.submit(Request(other, stop, FIRST_TURN)))
        again = {"role": "user", "content": "Go on, at length."}
        prompts.append(
            model.encode([ask(topic), {"role": "assistant", "content": answer}, again])[0]
        )
        firsts.append(tokens)
    held = engine.cache.idle.items()
    own = [i for first in firsts for i, tokens in held if tokens[: len(first)] == first]
    return SecondTurns(prompts, stop, firsts, own)
