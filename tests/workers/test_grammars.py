"""Grammars from checked schemas on the real model: llama.cpp parses every one, and replies
sampled under them (seeded, at temperature 1, so the model strays) parse and validate.
Replies are short: a reply cut by max_tokens is cut JSON, which only the unbounded (recursive)
schema may be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import llama_cpp
import pytest

from app.config import Settings
from app.services.json_schemas import check_schema
from app.services.tool_calls import output_problem, prompt_turns, reply_calls
from workers.inference.grammars import request_grammar
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.sampler import SequenceSampler, chain
from workers.inference.sequence import Request

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
    {
        "$defs": {"Node": {"type": "object", "additionalProperties": False,
                           "properties": {"v": {"type": "integer"},
                                          "next": {"anyOf": [{"$ref": "#/$defs/Node"},
                                                             {"type": "null"}]}},
                           "required": ["v", "next"]}},
        "type": "object",
        "properties": {"head": {"$ref": "#/$defs/Node"}},
        "required": ["head"],
    },
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "when": {"type": "string", "format": "date"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 4},
                     "minItems": 1, "maxItems": 2},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"const": "x"}]},
            "kind": {"type": ["boolean", "null"]},
        },
        "required": ["when", "tags", "pair"],
    },
]  # fmt: skip
TOOLS = [
    {"name": "lookup", "description": "", "parameters": {
        "$defs": {"Q": {"type": "string", "maxLength": 12}}, "type": "object",
        "properties": {"q": {"$ref": "#/$defs/Q"}}, "required": ["q"]}},
    {"name": "count", "description": "", "parameters": {
        "$defs": {"Q": {"type": "integer"}}, "type": "object",
        "properties": {"n": {"$ref": "#/$defs/Q"}}, "required": ["n"]}},
]  # fmt: skip


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(
        Settings(model_path=model_path, n_threads=2, n_ctx=1024, parallel_sequences=2)
    )


def generate(
    model: ChatModel,
    request: dict[str, Any],
    seed: int,
    max_tokens: int = 60,
    temperature: float = 1.0,
) -> Any:
    turns = prompt_turns([{"role": "user", "content": "Reply please."}], request)
    tokens, stop = model.encode(turns)
    sampling = Sampling(max_tokens=max_tokens, temperature=temperature, top_p=1.0, seed=seed)
    grammar = request_grammar(request)
    reply = model.engine.submit(Request(tokens, stop, sampling, grammar=grammar))
    return "".join(reply), reply.finish_reason


def parses(model: ChatModel, grammar: str) -> bool:
    vocab = llama_cpp.llama_model_get_vocab(model.llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


@pytest.mark.parametrize("schema", SCHEMAS, ids=["flat", "recursive", "formats"])
def test_replies_under_a_schema_parse_and_validate(
    model: ChatModel, schema: dict[str, Any]
) -> None:
    check_schema(schema, "schema")
    request = {"response_format": {"type": "json_schema", "schema": schema}}
    grammar = request_grammar(request)
    assert grammar is not None and parses(model, grammar), grammar
    # room for the bounded schemas' longest likely reply: the grammar lets the model put
    # spaces between tokens, and at temperature 1 it does
    text, finish = generate(model, request, 1, max_tokens=96)
    if finish == "stop":  # else cut JSON, as the API says (the recursive schema is unbounded)
        jsonschema.validate(json.loads(text), schema)
        assert output_problem(request, text) is None
    else:
        assert schema is SCHEMAS[1], text


def test_json_object_replies_are_objects(model: ChatModel) -> None:
    request = {"response_format": {"type": "json_object"}}
    text, finish = generate(model, request, 0, max_tokens=48, temperature=0.0)
    assert finish == "stop", text
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize("choice", ["required", "auto", {"name": "count"}])
def test_tool_call_grammars(model: ChatModel, choice: Any) -> None:
    request = {"tools": TOOLS, "tool_choice": choice, "parallel_tool_calls": True}
    for tool in TOOLS:
        check_schema(tool["parameters"], "parameters")
    grammar = request_grammar(request)
    assert grammar is not None and parses(model, grammar), grammar
    text, finish = generate(model, request, 2, max_tokens=48)
    calls = reply_calls(request, text)
    if choice != "auto":
        assert calls, text
    if isinstance(choice, dict):
        assert calls is not None and [c.name for c in calls] == ["count"]
    if finish == "stop":
        assert output_problem(request, text) is None, text
    if calls is None:
        assert not text.startswith(("{", " "))


def test_the_grammar_checks_the_drawn_token_and_redraws_only_what_it_refuses(
    model: ChatModel,
) -> None:
    """At temperature 0 the lazy check gives the very tokens of the grammar applied to every
    candidate (the best token, when allowed, is the best allowed one), step by step on the same
    logits; the small model's best token is often refused, so the redraw path runs too."""
    request = {"response_format": {"type": "json_object"}}
    grammar = request_grammar(request)
    assert grammar is not None
    vocab = llama_cpp.llama_model_get_vocab(model.llm.model)
    sampling = Sampling(max_tokens=32, temperature=0.0, top_p=1.0, seed=0)
    lazy = SequenceSampler(vocab, sampling, grammar)
    everywhere = chain(
        sampling, 0, llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    )
    try:
        drawn = side_by_side(model, "Reply please.", lazy, everywhere, sampling.max_tokens)
    finally:
        lazy.close()
        llama_cpp.llama_sampler_free(everywhere)
    llm = model.llm
    text = llm.detokenize([t for t in drawn if not llama_cpp.llama_vocab_is_eog(vocab, t)])
    assert isinstance(json.loads(text), dict), text
    assert lazy.redrawn > 0


def test_the_greedy_draw_is_llama_cpps_greedy_token(model: ChatModel) -> None:
    """At temperature 0 the sampler reads the argmax of the logits in place; step by step on
    the same logits it is the token of llama.cpp's greedy sampler, over a whole reply."""
    vocab = llama_cpp.llama_model_get_vocab(model.llm.model)
    sampling = Sampling(max_tokens=48, temperature=0.0, top_p=1.0, seed=0)
    fast = SequenceSampler(vocab, sampling, None)
    greedy = chain(sampling, 0, None)
    try:
        drawn = side_by_side(model, "Name three rivers.", fast, greedy, sampling.max_tokens)
    finally:
        fast.close()
        llama_cpp.llama_sampler_free(greedy)
    assert fast.greedy and len(set(drawn)) > 5, drawn


def side_by_side(
    model: ChatModel, question: str, sampler: SequenceSampler, reference: Any, steps: int
) -> list[int]:
    """The tokens ``sampler`` draws for ``question``, each checked against the ``reference``
    chain's draw on the same logits (the model evaluates each drawn token for the next)."""
    vocab = llama_cpp.llama_model_get_vocab(model.llm.model)
    tokens, _ = model.encode(prompt_turns([{"role": "user", "content": question}], {}))
    llm = model.llm
    llm.reset()
    llm.eval(tokens)
    drawn: list[int] = []
    try:
        for _ in range(steps):
            token = sampler.sample(llm._ctx.ctx, -1)
            assert token == llama_cpp.llama_sampler_sample(reference, llm._ctx.ctx, -1), drawn
            drawn.append(token)
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            llm.eval([token])
    finally:
        llm.reset()
    return drawn
