"""The engine on the real model: many replies in one context, each as if it ran alone.

Single replies are held to llama-cpp-python's own create_completion (same text, token count,
finish reason, stop-string cut, seeded sampling); concurrent ones to one-at-a-time runs.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from llama_cpp import Llama

from app.config import Settings
from testkit.processes import wait_until
from workers.inference.holds import HOLD_MAX_S
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.prefix_cache import common_prefix, min_copy_tokens
from workers.inference.sequence import BATCH, Reply, Request
from workers.inference.stops import first_stop, stop_prefix_length

N_CTX = 1024


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(
        Settings(model_path=model_path, n_threads=2, n_ctx=N_CTX, parallel_sequences=4)
    )


@pytest.fixture(scope="module")
def reference_llm(model_path: Path) -> Llama:
    return Llama(model_path=str(model_path), n_ctx=N_CTX, n_threads=2, verbose=False)


def chat(model: ChatModel, question: str) -> tuple[list[int], list[str]]:
    return model.encode([{"role": "user", "content": question}])


def submit(model: ChatModel, question: str, sampling: Sampling, **extra: Any) -> Reply:
    tokens, stop = chat(model, question)
    return model.engine.submit(Request(tokens, extra.pop("stop", stop), sampling, **extra))


def run(model: ChatModel, question: str, sampling: Sampling, **extra: Any) -> tuple[str, Reply]:
    reply = submit(model, question, sampling, **extra)
    return "".join(reply), reply


def together(model: ChatModel, jobs: list[tuple[str, Sampling]]) -> list[tuple[str, Any, int]]:
    """Submits every job at once and reads them in parallel threads."""
    replies = [submit(model, question, sampling) for question, sampling in jobs]
    results: list[Any] = [None] * len(replies)

    def read(i: int) -> None:
        text = "".join(replies[i])
        results[i] = (text, replies[i].finish_reason, replies[i].generated_tokens)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(replies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


CASES = [
    ("Write a short poem about the sea.", Sampling(60, 0.0, 1.0, 42)),
    ("Name the capital city of France.", Sampling(200, 0.0, 1.0, 42)),  # ends by itself
    ("Tell me a story about a fox.", Sampling(50, 0.8, 0.95, 7)),  # seeded sampling
    ("Écris une phrase en français avec des accents: é à ç ô.", Sampling(40, 0.0, 1.0, 1)),
]


@pytest.mark.parametrize(("question", "sampling"), CASES)
def test_a_reply_equals_create_completion(
    model: ChatModel, reference_llm: Llama, question: str, sampling: Sampling
) -> None:
    prompt, stop = model.format([{"role": "user", "content": question}])
    reference_llm.reset()
    expected = reference_llm.create_completion(
        model.tokenize(prompt),
        max_tokens=sampling.max_tokens,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        seed=sampling.seed,
        stop=stop,
    )
    reply = model.engine.submit(Request(model.tokenize(prompt), stop, sampling))
    pieces = list(reply)
    assert "".join(pieces) == expected["choices"][0]["text"]
    assert reply.generated_tokens == expected["usage"]["completion_tokens"]
    assert reply.finish_reason == expected["choices"][0]["finish_reason"]
    assert len(pieces) > 3, "the text must stream in pieces, not arrive at the end"


def test_each_decode_step_is_timed_with_its_tokens(model: ChatModel) -> None:
    """What the worker's step histogram is drawn from (engine_gauges.py): a lone reply's prompt
    in one step, then one step per further token."""
    model.engine.step_times.clear()
    tokens, stop = chat(model, "Name a colour.")
    reply = model.engine.submit(Request(tokens, stop, Sampling(8, 0.0, 1.0, 42)))
    list(reply)
    steps = list(model.engine.step_times)
    assert reply.finish_reason == "length"  # an end-of-generation token is a step, not a token
    assert len(steps) == reply.generated_tokens > 1
    assert 2 <= steps[0][0] <= len(tokens)  # what the cache did not hold, two tokens at least
    assert [size for size, _ in steps[1:]] == [1] * (len(steps) - 1)
    assert all(0 < seconds < 60 for _, seconds in steps)


def test_concurrent_replies_equal_one_at_a_time(model: ChatModel) -> None:
    greedy = [(question, Sampling(48, 0.0, 1.0, 42)) for question, _ in CASES]
    jobs = [*greedy, ("Tell me a story about a fox.", Sampling(40, 0.8, 0.95, 7))]
    alone = []
    for question, sampling in jobs:
        text, reply = run(model, question, sampling)
        alone.append((text, reply.finish_reason, reply.generated_tokens))
    assert together(model, jobs) == alone  # five replies, four places: one waits for a place


def test_a_stop_string_cuts_the_reply_where_create_completion_does(
    model: ChatModel, reference_llm: Llama
) -> None:
    question = "Write a short poem about the sea."
    sampling = Sampling(60, 0.0, 1.0, 42)
    full, _ = run(model, question, sampling)
    stop_word = full.split()[6]  # a word from the middle of the reply, maybe split over tokens
    tokens, template_stop = chat(model, question)
    stop = [*template_stop, stop_word]
    reference_llm.reset()
    expected = reference_llm.create_completion(
        tokens, max_tokens=60, temperature=0.0, top_p=1.0, seed=42, stop=stop
    )["choices"][0]
    reply = model.engine.submit(Request(tokens, stop, sampling))
    pieces = list(reply)
    assert "".join(pieces) == expected["text"] == full[: full.index(stop_word)]
    assert reply.finish_reason == expected["finish_reason"] == "stop"
    assert not any(stop_word in piece for piece in pieces)


def test_a_cancelled_reply_stops_while_the_others_go_on(model: ChatModel) -> None:
    sampling = Sampling(120, 0.0, 1.0, 42)
    question = "Write a long story about a lighthouse."
    expected, _ = run(model, question, sampling)
    doomed = submit(model, "Write a long story about a dragon.", sampling)
    others = [submit(model, question, sampling) for _ in range(2)]
    pieces = iter(doomed)
    next(pieces)
    doomed.cancel()
    rest = list(pieces)
    assert doomed.finish_reason == "cancelled"
    assert len(rest) <= 2, "a cancelled sequence stops within a step (one piece may be queued)"
    assert doomed.generated_tokens < sampling.max_tokens
    assert ["".join(reply) for reply in others] == [expected, expected]


def test_a_reply_that_overflows_the_context_ends_length_beside_others(model: ChatModel) -> None:
    long_question = "Repeat after me: " + "the sea is blue and wide, " * 118
    tokens, stop = chat(model, long_question)
    room = N_CTX - len(tokens)
    assert 0 < room < 200, len(tokens)
    neighbour_sampling = Sampling(30, 0.0, 1.0, 42)
    expected, _ = run(model, "Name the capital city of France.", neighbour_sampling)
    overflowing = model.engine.submit(Request(tokens, stop, Sampling(2000, 0.0, 1.0, 1)))
    neighbour = submit(model, "Name the capital city of France.", neighbour_sampling)
    "".join(overflowing)
    assert "".join(neighbour) == expected
    assert overflowing.finish_reason in ("length", "stop")
    assert overflowing.generated_tokens <= room
    if overflowing.finish_reason == "length":
        assert overflowing.generated_tokens == room


def test_a_chat_turn_reuses_the_cached_prefix_of_the_previous_turn(model: ChatModel) -> None:
    first = [{"role": "user", "content": "Name the capital city of Italy."}]
    tokens, stop = model.encode(first)
    text = "".join(model.engine.submit(Request(tokens, stop, Sampling(20, 0.0, 1.0, 1))))
    for i in range(4):  # other chats in between
        run(model, f"Count to {i + 3}.", Sampling(8, 0.0, 1.0, 1))
    second = [*first, {"role": "assistant", "content": text}, {"role": "user", "content": "Why?"}]
    tokens_two, _ = model.encode(second)
    before = model.engine.cache.reused_tokens
    "".join(model.engine.submit(Request(tokens_two, stop, Sampling(8, 0.0, 1.0, 1))))
    assert model.engine.cache.reused_tokens - before >= len(tokens)


def test_a_new_chat_copies_a_short_prefix_it_shares_and_replies_as_from_cold(
    model: ChatModel,
) -> None:
    """The template and the first words shared with another chat's cached sequence (fewer than
    the 32 tokens copied before: MIN_COPY_TOKENS) are copied, not evaluated; the reply is the
    one a cold prompt gets."""
    run(model, "Name the capital city of Italy and describe it.", Sampling(40, 0.0, 1.0, 1))
    tokens, stop = chat(model, "Name the capital city of Peru.")
    shared = common_prefix(
        tokens, chat(model, "Name the capital city of Italy and describe it.")[0]
    )
    assert min_copy_tokens(N_CTX) <= shared < 32
    sampling = Sampling(12, 0.0, 1.0, 1)
    before = model.engine.cache.reused_tokens
    warm = "".join(model.engine.submit(Request(tokens, stop, sampling)))
    assert model.engine.cache.reused_tokens - before == shared
    model.engine.cache.forget()
    cold_before = model.engine.cache.reused_tokens
    assert "".join(model.engine.submit(Request(tokens, stop, sampling))) == warm
    assert model.engine.cache.reused_tokens == cold_before


def test_a_chat_reply_takes_a_batch_items_place_and_the_item_resumes(model: ChatModel) -> None:
    sampling = Sampling(60, 0.0, 1.0, 42)
    question = "Write a long story about the sea."
    expected, _ = run(model, question, sampling)
    items = [submit(model, question, sampling, priority=BATCH) for _ in range(4)]
    streams = [iter(item) for item in items]
    firsts = [next(stream) for stream in streams]  # every place holds a batch item now
    suspended = model.engine.suspensions
    chat_text, chat_reply = run(model, "Name the capital city of France.", Sampling(8, 0.0, 1.0, 1))
    assert chat_text and chat_reply.ended.is_set()
    assert not any(item.ended.is_set() for item in items), "the chat waited for a batch item"
    assert model.engine.suspensions == suspended + 1
    outputs = [first + "".join(stream) for first, stream in zip(firsts, streams, strict=True)]
    assert outputs == [expected] * 4, "a suspended item resumes where it was"
    assert all(item.generated_tokens == 60 for item in items)


def test_batch_items_sit_out_the_steps_of_a_chats_prompt(
    model: ChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat's first token costs a step of chat work only: while its prompt is evaluated the
    running batch items add nothing to the batch (and then go on, their text unchanged)."""
    engine = model.engine
    sampling = Sampling(40, 0.0, 1.0, 42)
    question = "Write a long story about a mountain."
    expected, _ = run(model, question, sampling)
    steps = record_plans(engine, monkeypatch)
    items = [submit(model, question, sampling, priority=BATCH) for _ in range(2)]
    streams = [iter(item) for item in items]
    firsts = [next(stream) for stream in streams]  # both items are decoding
    chat_text, _ = run(model, "Name the capital city of France.", Sampling(4, 0.0, 1.0, 1))
    outputs = [first + "".join(stream) for first, stream in zip(firsts, streams, strict=True)]
    prompt_steps = [step for step in steps if any(p != BATCH and n > 1 for p, n in step)]
    assert chat_text and prompt_steps, steps
    assert all(p != BATCH for step in prompt_steps for p, _ in step), prompt_steps
    assert any(step.count((BATCH, 1)) == 2 for step in steps[steps.index(prompt_steps[-1]) :])
    assert outputs == [expected] * 2


def record_plans(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[int, int]]]:
    """Each step's (priority, tokens) per sequence, from now on."""
    steps: list[list[tuple[int, int]]] = []
    plan = engine._plan

    def recorded(held: bool) -> list[tuple[Any, int, int | None]]:
        planned = plan(held)
        steps.append([(sequence.request.priority, chunk) for sequence, chunk, _ in planned])
        return planned

    monkeypatch.setattr(engine, "_plan", recorded)
    return steps


def test_batch_items_sit_out_while_a_chat_job_is_on_its_way(
    model: ChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the moment a chat job's task starts (claim, prompt: holds.py) the engine steps no
    batch item; the chat's prompt then runs alone and the items go on, their text unchanged.
    The holds' clock stands still here, so a slow machine cannot make the hold lapse."""
    engine = model.engine
    sampling = Sampling(40, 0.0, 1.0, 42)
    question = "Write a long story about a river."
    expected, _ = run(model, question, sampling)
    monkeypatch.setattr(engine.holds, "_clock", lambda: 0.0)
    steps = record_plans(engine, monkeypatch)
    items = [submit(model, question, sampling, priority=BATCH) for _ in range(2)]
    streams = [iter(item) for item in items]
    firsts = [next(stream) for stream in streams]  # both items are decoding
    with engine.holds.expecting():
        time.sleep(0.2)  # a step planned before the hold began ends
        mark = len(steps)
        time.sleep(0.3)  # the claim: the engine would have made ~10 steps
        assert len(steps) == mark, steps[mark:]
        chat = submit(model, "Name the capital city of France.", Sampling(4, 0.0, 1.0, 1))
    chat_text = "".join(chat)
    outputs = [first + "".join(stream) for first, stream in zip(firsts, streams, strict=True)]
    assert chat_text
    first_step = steps[mark]
    assert first_step and all(p != BATCH for p, _ in first_step), steps[mark:]
    assert outputs == [expected] * 2


def test_a_hold_lapses_so_a_slow_claim_never_stalls_batch_work(
    model: ChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = model.engine
    now = [0.0]
    monkeypatch.setattr(engine.holds, "_clock", lambda: now[0])
    steps = record_plans(engine, monkeypatch)
    item = submit(model, "Write a long story about a lake.", Sampling(60, 0.0, 1.0, 42),
                  priority=BATCH)  # fmt: skip
    stream = iter(item)
    next(stream)
    with engine.holds.expecting():
        time.sleep(0.2)
        mark = len(steps)
        time.sleep(0.2)
        assert len(steps) == mark, steps[mark:]
        now[0] = HOLD_MAX_S + 0.01  # the engine looks again when the hold would lapse
        wait_until(lambda: (BATCH, 1) in sum(steps[mark:], []), timeout=10, what="a batch step")
    "".join(stream)
    assert item.generated_tokens == 60


def test_a_chat_job_that_reaches_the_engine_releases_only_its_own_hold(
    model: ChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    holds = model.engine.holds
    monkeypatch.setattr(holds, "_clock", lambda: 0.0)  # no hold lapses here
    entered, release = threading.Event(), threading.Event()

    def other_job() -> None:
        with holds.expecting():
            entered.set()
            release.wait(10)

    other = threading.Thread(target=other_job)
    other.start()
    try:
        assert entered.wait(10)
        with holds.expecting():
            "".join(submit(model, "Say hi.", Sampling(2, 0.0, 1.0, 1)))  # this thread's: in
            with model.engine._lock:
                assert holds.lapse_s() is not None, "the other job's hold went with this one"
    finally:
        release.set()
        other.join(10)
    with model.engine._lock:
        assert holds.lapse_s() is None


def test_a_light_users_reply_takes_the_place_of_the_heaviest_users_latest(
    model: ChatModel,
) -> None:
    """Fair sharing inside the engine: user 1 holds every place; user 2, with nothing running,
    starts at once (user 1's latest reply waits, then resumes where it was); a third reply of
    user 1 takes nobody's place."""
    sampling = Sampling(60, 0.0, 1.0, 42)
    question = "Write a long story about the sea."
    expected, _ = run(model, question, sampling)
    heavy = [submit(model, question, sampling, owner=1) for _ in range(4)]
    streams = [iter(reply) for reply in heavy]
    firsts = [next(stream) for stream in streams]  # every place holds one of user 1's
    suspended = model.engine.suspensions
    assert model.engine.owners() == ({1: 4}, True)
    light_text, light = run(model, "Name the capital city of France.", Sampling(8, 0.0, 1.0, 1),
                            owner=2)  # fmt: skip
    assert light_text and light.ended.is_set()
    assert not any(reply.ended.is_set() for reply in heavy), "the light user waited"
    assert model.engine.suspensions == suspended + 1
    outputs = [first + "".join(stream) for first, stream in zip(firsts, streams, strict=True)]
    assert outputs == [expected] * 4, "a suspended reply resumes where it was"


def test_a_users_own_extra_reply_waits_for_a_free_place(model: ChatModel) -> None:
    sampling = Sampling(40, 0.0, 1.0, 42)
    question = "Write a long story about the sea."
    heavy = [submit(model, question, sampling, owner=1) for _ in range(4)]
    streams = [iter(reply) for reply in heavy]
    for stream in streams:
        next(stream)
    suspended = model.engine.suspensions
    extra = submit(model, "Name the capital city of France.", Sampling(8, 0.0, 1.0, 1), owner=1)
    "".join(extra)
    assert sum(reply.ended.is_set() for reply in heavy) >= 1, "it took a running reply's place"
    assert model.engine.suspensions == suspended
    for stream in streams:
        "".join(stream)


def test_a_grammar_bounds_what_is_sampled(model: ChatModel) -> None:
    text, reply = run(
        model,
        "Is the sea blue? Answer yes or no.",
        Sampling(10, 0.8, 0.95, 3),
        grammar='root ::= ("yes" | "no") "."',
    )
    assert text in ("yes.", "no."), text
    assert reply.finish_reason == "stop"


def test_stop_helpers() -> None:
    assert first_stop("hello world", ["wor", "lo"]) == 3
    assert first_stop("hello", ["xyz"]) is None
    assert stop_prefix_length("the end<|im", ["<|im_end|>"]) == 4
    assert stop_prefix_length("the end<", ["<|im_end|>", "END"]) == 1
    assert stop_prefix_length("the end", ["<|im_end|>"]) == 0
    assert stop_prefix_length("abc", ["abc"]) == 0  # a whole stop string is found, not held


def test_an_evicted_chat_comes_back_from_host_memory(model_path: Path) -> None:
    small = load_model(
        Settings(model_path=model_path, n_threads=2, n_ctx=512, parallel_sequences=1)
    )  # a stream per sequence (places, suspended, reserve): one chat more evicts the oldest
    notes = "Remember these notes about ships and harbours and tides. " * 8
    first = [{"role": "user", "content": notes + "What did I say?"}]
    tokens, stop = small.encode(first)
    sampling = Sampling(12, 0.0, 1.0, 1)
    answer = "".join(small.engine.submit(Request(tokens, stop, sampling)))
    others = ["Count to five.", "Name three colours.", "Say hi.", "Spell cat.", "Add 2 and 2."]
    assert small.engine.n_seq_max <= len(others)
    for other in others[: small.engine.n_seq_max]:
        "".join(
            small.engine.submit(
                Request(*small.encode([{"role": "user", "content": other}]), sampling)
            )
        )
    assert small.engine.cache.saved, "the first chat's stream went to host memory"
    second = [*first, {"role": "assistant", "content": answer}, {"role": "user", "content": "Ok."}]
    tokens_two, _ = small.encode(second)
    before = small.engine.cache.reused_tokens
    warm = "".join(small.engine.submit(Request(tokens_two, stop, sampling)))
    assert small.engine.cache.restored == 1
    assert small.engine.cache.reused_tokens - before >= len(tokens)
    small.engine.cache.forget()
    assert "".join(small.engine.submit(Request(tokens_two, stop, sampling))) == warm
