"""Replies whose cached streams lie apart, decoded together: moved next to each other or not.

Run: .venv/bin/python -m bench.layout [--chats 4] [--tokens 200] [--rounds 2]
In one process, on the engine an inference worker runs (PARALLEL_SEQUENCES = chats): each
chat's first turn is followed by another chat's, so the chats' streams lie apart (ids 0, 2,
4, 6), as a team's chats do when their next turns come in another order than their first.
Their next turns then run together, on an engine that moves running replies next to each
other (the product) and on one that does not; a third row has the same turns in streams that
follow each other from the start (a fresh engine's layout), the best case. Aggregate tok/s.
llama.cpp decodes only consecutive sequence ids in one pass (workers/inference/layout.py).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import replace

from app.config import Settings
from scripts.fetch_model import fetch
from testkit.chats_apart import ask, second_turns
from workers.inference.engine import Engine
from workers.inference.layout import runs
from workers.inference.model import Sampling, load_model
from workers.inference.sequence import Request

TOPICS = ["a lighthouse", "a fox", "the sea", "a baker", "a river", "a clock", "a kite", "a bee"]


def together(engine: Engine, prompts: list[list[int]], stop: list[str], tokens: int) -> float:
    """Aggregate tok/s of the prompts' replies, run at once."""
    replies = [engine.submit(Request(p, stop, Sampling(tokens, 0.0, 1.0, 1))) for p in prompts]
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda r=r: "".join(r)) for r in replies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(r.generated_tokens for r in replies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chats", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(model_path=fetch(), n_threads=args.threads, parallel_sequences=args.chats)
    model = load_model(settings)
    topics = TOPICS[: args.chats]
    stop = model.encode([ask(topics[0])])[1]
    moving = model.engine
    still = Engine(model.llm.model, replace(moving.config, compact=False))
    cases = [("moved next to each other", moving, True), ("left apart", still, True),
             ("consecutive from the start", moving, False)]  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):
        for name, engine, apart in cases:
            turns = second_turns(model, engine, topics, apart)
            if (runs(turns.own) > 1) != apart:
                raise RuntimeError(f"{name}: the chats' streams are {turns.own}")
            rates[name].append(together(engine, turns.prompts, stop, args.tokens))
    print(f"| {args.chats} chats, {args.tokens} tokens each | tok/s, median of {args.rounds} |")  # noqa: T201
    print("|---|---|")  # noqa: T201
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):.1f} |")  # noqa: T201


if __name__ == "__main__":
    main()
