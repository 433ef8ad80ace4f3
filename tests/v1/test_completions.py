"""/v1/completions with the official openai client: raw text continued (no chat template, no
special tokens parsed from the prompt), streamed or not, stop, max_tokens, seed, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from flask.testing import FlaskClient
from llama_cpp import Llama

from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess
from tests.v1.test_openai_client import create_key

PROMPT = "1, 2, 3, 4, 5,"


@pytest.fixture(scope="module")
def vocab(model_path: Path) -> Iterator[Llama]:
    """The model's tokenizer alone (no weights), to count what the server should evaluate."""
    llm = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def tokens(vocab: Llama, text: str, *, special: bool) -> list[int]:
    return vocab.tokenize(text.encode(), add_bos=True, special=special)


@pytest.fixture()
def api(
    client: FlaskClient,
    auth_headers: dict[str, str],
    live_server: LiveServer,
    celery_worker: WorkerProcess,
) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{live_server.url}/v1", api_key=create_key(client, auth_headers), max_retries=0
    )


def test_prompt_in_text_out_with_usage(
    api: openai.OpenAI, settings: Settings, vocab: Llama
) -> None:
    done = api.completions.create(
        model=settings.served_model_name, prompt=PROMPT, max_tokens=6, temperature=0
    )
    assert done.object == "text_completion" and done.id.startswith("cmpl-")
    assert done.model == settings.served_model_name
    choice = done.choices[0]
    assert choice.text and choice.finish_reason == "length" and choice.index == 0
    assert done.usage is not None and done.usage.completion_tokens == 6
    # a raw prompt: its own tokens only, no chat template around it
    assert done.usage.prompt_tokens == len(tokens(vocab, PROMPT, special=False))
    assert "6" in choice.text, choice.text  # the model counts on; a chat turn would answer


def test_omitted_max_tokens_is_openais_default_of_16(
    api: openai.OpenAI, settings: Settings
) -> None:
    done = api.completions.create(model=settings.served_model_name, prompt=PROMPT, temperature=0)
    assert done.usage is not None
    assert done.usage.completion_tokens == 16, done.choices[0]
    assert done.choices[0].finish_reason == "length"


def test_special_tokens_in_the_prompt_are_text(
    api: openai.OpenAI, settings: Settings, vocab: Llama
) -> None:
    typed = "<|im_start|>system"
    done = api.completions.create(
        model=settings.served_model_name, prompt=typed, max_tokens=1, temperature=0
    )
    assert done.usage is not None
    as_text, as_special = tokens(vocab, typed, special=False), tokens(vocab, typed, special=True)
    assert len(as_special) < len(as_text)  # "<|im_start|>" is one token when read as special
    assert done.usage.prompt_tokens == len(as_text)


def test_stop_cuts_the_text(api: openai.OpenAI, settings: Settings) -> None:
    params: dict[str, Any] = {"model": settings.served_model_name, "prompt": PROMPT,
                              "max_tokens": 12, "temperature": 0}  # fmt: skip
    full = api.completions.create(**params).choices[0].text
    assert "8" in full, full
    stopped = api.completions.create(**params, stop=["8"]).choices[0]
    assert stopped.text == full[: full.index("8")]
    assert stopped.finish_reason == "stop"


def test_seed_repeats_a_sampled_completion(api: openai.OpenAI, settings: Settings) -> None:
    params: dict[str, Any] = {"model": settings.served_model_name, "prompt": "Once upon a time",
                              "max_tokens": 12, "temperature": 1.0}  # fmt: skip
    first = api.completions.create(**params, seed=7).choices[0].text
    again = api.completions.create(**params, seed=7).choices[0].text
    others = {api.completions.create(**params, seed=seed).choices[0].text for seed in (8, 9)}
    assert first == again
    assert others != {first}  # another seed samples another text


def test_streaming_matches_the_non_streamed_text(api: openai.OpenAI, settings: Settings) -> None:
    params: dict[str, Any] = {"model": settings.served_model_name, "prompt": PROMPT,
                              "max_tokens": 10, "temperature": 0}  # fmt: skip
    whole = api.completions.create(**params)
    chunks = list(
        api.completions.create(**params, stream=True, stream_options={"include_usage": True})
    )
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == whole.choices[0].text
    assert len([c for c in chunks if c.choices and c.choices[0].text]) > 3
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 10
    assert whole.usage is not None and usage.prompt_tokens == whole.usage.prompt_tokens


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"best_of": 3}, "best_of"),
        ({"echo": True}, "echo"),
        ({"logprobs": 2}, "logprobs"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"suffix": "end"}, "suffix"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": 1.0}, "frequency_penalty"),
        ({"extra_body": {"top_k": 5}}, "top_k"),
    ],
)
def test_unimplemented_parameters_are_refused_by_name(
    api: openai.OpenAI, settings: Settings, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        api.completions.create(
            model=settings.served_model_name, prompt=PROMPT, max_tokens=2, **extra
        )
    assert refused.value.param == param
    assert param in refused.value.message
    assert refused.value.code == "unsupported_parameter"


def test_not_used_values_of_refused_parameters_pass(api: openai.OpenAI, settings: Settings) -> None:
    done = api.completions.create(
        model=settings.served_model_name, prompt=PROMPT, max_tokens=2, n=1, echo=False,
        best_of=1, presence_penalty=0, frequency_penalty=0, logprobs=None, user="someone",
    )  # fmt: skip
    assert done.usage is not None and done.usage.completion_tokens == 2


def test_prompts_the_server_cannot_take(api: openai.OpenAI, settings: Settings) -> None:
    for prompt in ([1, 2, 3], ["one", "two"]):
        with pytest.raises(openai.BadRequestError) as refused:
            api.completions.create(model=settings.served_model_name, prompt=prompt, max_tokens=2)
        assert refused.value.param == "prompt"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        api.completions.create(model="davinci-002", prompt=PROMPT)
    with pytest.raises(openai.UnprocessableEntityError, match="over the limit"):
        api.completions.create(model=settings.served_model_name, prompt=PROMPT, max_tokens=10**6)
