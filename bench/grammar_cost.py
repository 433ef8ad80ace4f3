"""What a grammar costs per token: the same replies in the engine with no grammar, under a JSON
schema, under json_object, and under a tool-call grammar (auto: calls or prose), one at a time.

    python -m bench.grammar_cost [--replies 5] [--max-tokens 96] [--threads 2]

Prints, per case, decode ms per token (median of the replies) and the ratio to no grammar, and
the time to build and parse each grammar. Take figures on a quiet machine: llama.cpp slows
10-50x on busy cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import llama_cpp

from app.config import Settings
from scripts.fetch_model import fetch
from workers.inference.grammars import request_grammar
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.sequence import Request

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "year": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "year", "tags"],
}
TOOLS = [
    {"name": f"tool_{i}", "description": "",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                    "required": ["query"]}}
    for i in range(4)
]  # fmt: skip
CASES: dict[str, dict[str, Any]] = {
    "none": {},
    "json_schema": {"response_format": {"type": "json_schema", "schema": SCHEMA}},
    "json_object": {"response_format": {"type": "json_object"}},
    "tools (auto)": {"tools": TOOLS, "tool_choice": "auto", "parallel_tool_calls": True},
}
PROMPT = "Describe a book you like, with its title, year and a few tags."


def decode_ms_per_token(
    model: ChatModel, grammar: str | None, max_tokens: int, seed: int
) -> tuple[float, int]:
    tokens, stop = model.encode([{"role": "user", "content": PROMPT}])
    sampling = Sampling(max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=seed)
    reply = model.engine.submit(Request(tokens, stop, sampling, grammar=grammar))
    first: float | None = None
    for _ in reply:
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    decoded = max(reply.generated_tokens - 1, 1)
    return (ended - (first or ended)) * 1000 / decoded, reply.generated_tokens


def grammar_setup_ms(model: ChatModel, request: dict[str, Any]) -> tuple[float, float]:
    """Building the GBNF text, and llama.cpp parsing it into a sampler."""
    started = time.perf_counter()
    grammar = request_grammar(request)
    built = time.perf_counter()
    if grammar is None:
        return 0.0, 0.0
    vocab = llama_cpp.llama_model_get_vocab(model.llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    parsed = time.perf_counter()
    llama_cpp.llama_sampler_free(sampler)
    return (built - started) * 1000, (parsed - built) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(model_path=fetch(), n_threads=args.threads, n_ctx=1024,
                        parallel_sequences=1)  # fmt: skip
    model = load_model(settings)
    baseline = None
    print(
        f"{'case':<14} {'ms/token':>9} {'x none':>7} {'tokens':>7} {'build ms':>9} {'parse ms':>9}"
    )
    for name, request in CASES.items():
        grammar = request_grammar(request)
        runs = [decode_ms_per_token(model, grammar, args.max_tokens, seed)
                for seed in range(args.replies)]  # fmt: skip
        per_token = statistics.median(ms for ms, _ in runs)
        tokens = statistics.median(n for _, n in runs)
        baseline = baseline or per_token
        build_ms, parse_ms = grammar_setup_ms(model, request)
        print(f"{name:<14} {per_token:>9.2f} {per_token / baseline:>7.2f} {tokens:>7.0f} "
              f"{build_ms:>9.2f} {parse_ms:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
