"""Running replies sit in consecutive sequence ids (workers/inference/layout.py): llama.cpp
decodes only those in one pass. On the real model, chats whose cached streams lie apart are
moved next to each other, and their replies are those of cold prompts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from testkit.chats_apart import second_turns
from workers.inference.layout import contiguous_moves, next_to, runs
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.sequence import Request


def test_runs_count_the_passes_of_a_step() -> None:
    assert runs([]) == 0
    assert runs([3, 1, 2]) == 1
    assert runs([0, 2, 4, 6]) == 4
    assert runs([8, 10, 11]) == 2
    assert next_to([4, 5]) == [6, 3]
    assert next_to([]) == []


def test_the_fewest_moves_put_running_ids_in_one_run() -> None:
    free = set(range(12)) - {0, 2, 4, 6}
    assert contiguous_moves([0, 2, 4, 6], free, set(), 12) == {4: 1, 6: 3}
    # a reply in the middle ended: an edge one moves into the hole it left
    assert contiguous_moves([8, 10, 11], {9, 12}, set(), 13) == {11: 9}
    assert contiguous_moves([0, 1, 2], {3}, set(), 4) == {}  # already one run


def test_moves_go_to_free_ids_before_evicting_idle_chats() -> None:
    # 9 is idle (a finished chat's cache), 12 free: 8 moves to 12, the idle chat stays
    assert contiguous_moves([8, 10, 11], {12}, {9}, 13) == {8: 12}
    # no free id next to them: the idle chat goes to host memory
    assert contiguous_moves([8, 10, 11], set(), {9}, 12) == {11: 9}


def test_ids_held_by_suspended_replies_are_never_targets() -> None:
    # 1 holds a suspended reply (neither free nor idle)
    assert contiguous_moves([0, 2], set(), set(), 3) == {}
    assert contiguous_moves([0, 2], {3}, set(), 4) == {0: 3}


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(
        Settings(model_path=model_path, n_threads=2, n_ctx=1024, parallel_sequences=4)
    )


def test_chats_whose_streams_lie_apart_run_side_by_side_as_from_cold(model: ChatModel) -> None:
    engine = model.engine
    sampling = Sampling(40, 0.0, 1.0, 1)
    turns = second_turns(model, engine, ["a lighthouse", "a fox", "the sea", "a baker"])
    prompts, stop, own = turns.prompts, turns.stop, turns.own
    assert len(own) == 4 and runs(own) > 1, f"the chats' cached streams lie apart: {own}"
    moves, reused = engine.cache.moves, engine.cache.reused_tokens
    replies = [engine.submit(Request(prompt, stop, sampling)) for prompt in prompts]
    streams = [iter(reply) for reply in replies]
    heads = [next(stream) for stream in streams]  # every prompt evaluated: moved at the next step
    heads = [head + next(stream) for head, stream in zip(heads, streams, strict=True)]
    placed = sorted(s.seq_id for s in list(engine.running))
    texts = [head + "".join(stream) for head, stream in zip(heads, streams, strict=True)]
    assert engine.cache.reused_tokens - reused >= sum(len(first) for first in turns.firsts)
    assert len(placed) == 4 and runs(placed) == 1, f"running replies in one run of ids: {placed}"
    assert engine.cache.moves > moves
    engine.cache.forget()
    cold = ["".join(engine.submit(Request(prompt, stop, sampling))) for prompt in prompts]
    assert texts == cold, "a moved reply's cache holds what evaluating its prompt gives"
