"""Which cached sequence a prompt starts from (workers/inference/prefix_cache.py), on the real
model: a chat's next turn takes its own sequence over; another chat copies what it shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.prefix_cache import common_prefix
from workers.inference.sequence import Request


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(
        Settings(model_path=model_path, n_threads=2, n_ctx=1024, parallel_sequences=2)
    )


def test_a_short_chat_keeps_its_cache_when_another_shares_most_of_it(model: ChatModel) -> None:
    """Two short chats share the system prompt and template, more than half of what the first
    one holds: the second copies it (the first used to lose all but the shared part to it), and
    the first chat's next turn evaluates only what is new."""
    engine = model.engine
    sampling = Sampling(6, 0.0, 1.0, 1)
    hi = [{"role": "user", "content": "Hi!"}]
    tokens, stop = model.encode(hi)
    answer = "".join(engine.submit(Request(tokens, stop, sampling)))
    (held,) = engine.cache.idle.values()
    other, _ = model.encode([{"role": "user", "content": "Hello there, friend!"}])
    assert common_prefix(other, held) * 2 >= len(held), "the other chat shares most of it"
    "".join(engine.submit(Request(other, stop, sampling)))
    assert any(tokens == kept[: len(tokens)] for kept in engine.cache.idle.values())
    again = [*hi, {"role": "assistant", "content": answer}, {"role": "user", "content": "Why?"}]
    before = engine.cache.reused_tokens
    "".join(engine.submit(Request(model.encode(again)[0], stop, sampling)))
    assert engine.cache.reused_tokens - before >= len(tokens)
