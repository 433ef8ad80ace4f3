"""The worker's decode loop against llama-cpp-python's own create_completion, on the real model.

ChatModel.stream decodes text incrementally instead of calling create_completion; these tests
hold it to the same output: same text, same token count, same finish reason, stop strings cut
at the same place, seeded sampling identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.stops import first_stop, stop_prefix_length


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(Settings(model_path=model_path, n_threads=2, n_ctx=1024))


def reference(model: ChatModel, prompt: str, stop: list[str], sampling: Sampling) -> Any:
    model.llm.reset()  # both sides evaluate the whole prompt: a cached prefix rounds differently
    return model.llm.create_completion(
        model.tokenize(prompt),
        max_tokens=sampling.max_tokens,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        seed=sampling.seed,
        stop=stop,
    )


def ours(model: ChatModel, prompt: str, stop: list[str], sampling: Sampling) -> list[str]:
    model.llm.reset()
    return list(model.stream(model.tokenize(prompt), stop, sampling))


def chat_prompt(model: ChatModel, question: str) -> tuple[str, list[str]]:
    return model.format([{"role": "user", "content": question}])


@pytest.mark.parametrize(
    ("question", "sampling"),
    [
        ("Write a short poem about the sea.", Sampling(60, 0.0, 1.0, 42)),
        ("What is the capital of France?", Sampling(200, 0.0, 1.0, 42)),  # ends by itself
        ("Tell me a story about a fox.", Sampling(50, 0.8, 0.95, 7)),  # seeded sampling
        ("Écris une phrase en français avec des accents: é à ç ô.", Sampling(40, 0.0, 1.0, 1)),
    ],
)
def test_stream_equals_create_completion(
    model: ChatModel, question: str, sampling: Sampling
) -> None:
    prompt, stop = chat_prompt(model, question)
    expected = reference(model, prompt, stop, sampling)
    pieces = ours(model, prompt, stop, sampling)
    assert "".join(pieces) == expected["choices"][0]["text"]
    assert model.generated_tokens == expected["usage"]["completion_tokens"]
    assert model.finish_reason == expected["choices"][0]["finish_reason"]
    assert len(pieces) > 3, "the text must stream in pieces, not arrive at the end"


def test_a_stop_string_cuts_the_reply_where_create_completion_does(model: ChatModel) -> None:
    prompt, template_stop = chat_prompt(model, "Write a short poem about the sea.")
    sampling = Sampling(60, 0.0, 1.0, 42)
    full = "".join(ours(model, prompt, template_stop, sampling))
    words = full.split()
    assert len(words) > 8, full
    stop_word = words[6]  # a word from the middle of the reply, maybe split over tokens
    stop = [*template_stop, stop_word]
    expected = reference(model, prompt, stop, sampling)["choices"][0]
    pieces = ours(model, prompt, stop, sampling)
    assert "".join(pieces) == expected["text"] == full[: full.index(stop_word)]
    assert model.finish_reason == expected["finish_reason"] == "stop"
    assert not any(stop_word in piece for piece in pieces)


def test_stop_helpers() -> None:
    assert first_stop("hello world", ["wor", "lo"]) == 3
    assert first_stop("hello", ["xyz"]) is None
    assert stop_prefix_length("the end<|im", ["<|im_end|>"]) == 4
    assert stop_prefix_length("the end<", ["<|im_end|>", "END"]) == 1
    assert stop_prefix_length("the end", ["<|im_end|>"]) == 0
    assert stop_prefix_length("abc", ["abc"]) == 0  # a whole stop string is found, not held


def test_a_lane_gets_its_prefix_back_after_the_other_lane_ran(model: ChatModel) -> None:
    sampling = Sampling(16, 0.0, 1.0, 42)
    chat_one = model.tokenize(chat_prompt(model, "What is the capital of France?")[0])
    chat_two = model.tokenize(chat_prompt(model, "What is the capital of Spain?")[0])
    batch = model.tokenize(model.format([{"role": "user", "content": "Say the number 7."}])[0])
    stop = chat_prompt(model, "")[1]

    def reply(lane: str, prompt: list[int]) -> str:
        model.use_lane(lane, prompt)
        return "".join(model.stream(prompt, stop, sampling))

    model.llm.reset()
    reply("chat", chat_one)
    expected = reply("chat", chat_two)  # chat_one's prefix cached, no batch work between

    model.llm.reset()
    reply("chat", chat_one)
    reply("batch", batch)
    assert model.llm.input_ids[0] == batch[0] and model.llm.n_tokens > len(batch) - 1
    model.use_lane("chat", chat_two)
    shared = next(i for i, (a, b) in enumerate(zip(chat_one, chat_two, strict=False)) if a != b)
    assert model.llm.input_ids[:shared].tolist() == chat_two[:shared], "chat prefix not restored"
    assert model.llm.n_tokens > shared  # chat_one and its reply came back
    assert "".join(model.stream(chat_two, stop, sampling)) == expected


def test_prefill_stops_between_chunks_and_keeps_what_it_evaluated(model: ChatModel) -> None:
    prompt = model.tokenize(chat_prompt(model, "Tell me about the history of Rome.")[0])
    model.llm.reset()
    asked = []

    def second_time() -> bool:
        asked.append(True)
        return len(asked) == 2

    assert not model.prefill(prompt, second_time, 8)
    assert model.llm.n_tokens == 8 and model.llm.input_ids[:8].tolist() == prompt[:8]
    assert model.prefill(prompt, lambda: False, 8)
    assert model.llm.n_tokens == len(prompt) - 1
    assert model.llm.input_ids[: len(prompt) - 1].tolist() == prompt[:-1]
    text = "".join(model.stream(prompt, chat_prompt(model, "")[1], Sampling(8, 0.0, 1.0, 1)))
    assert text.strip() and model.generated_tokens == 8


def test_a_restored_lane_decodes_again_before_it_samples(model: ChatModel) -> None:
    """A prompt that is exactly the restored tokens must not be sampled from the other lane's
    logits (what generate() does for an exact cache hit after a live decode)."""
    prompt = model.tokenize(chat_prompt(model, "Name the capital city of France.")[0])
    other = model.tokenize(chat_prompt(model, "Write a poem about a cat.")[0])
    stop = chat_prompt(model, "")[1]
    sampling = Sampling(12, 0.0, 1.0, 1)

    def evaluate_whole(lane: str) -> None:
        model.use_lane(lane, prompt)
        assert model.prefill(prompt, lambda: False, 8)
        model.llm.eval(prompt[-1:])  # the context now holds exactly the prompt
        assert model.llm.n_tokens == len(prompt)

    model.llm.reset()
    evaluate_whole("chat")
    expected = "".join(model.stream(prompt, stop, sampling))

    model.llm.reset()
    evaluate_whole("chat")
    model.use_lane("batch", other)
    "".join(model.stream(other, stop, sampling))  # the other lane's logits are in the context
    model.use_lane("chat", prompt)
    assert model.llm.n_tokens == len(prompt)
    assert "".join(model.stream(prompt, stop, sampling)) == expected
