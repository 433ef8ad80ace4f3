"""The adversarial suite's fault rows at full count, and the table that goes in the README.

Run: .venv/bin/python -m bench.adversarial [--kills 20] [--runs 5] [--seed N]
One stack of real processes with the user's default reliability settings (testkit/faultstack.py:
its own Redis server with AOF, PostgreSQL database, gunicorn, one inference worker, one ingest
worker and a Chroma server). Each row breaks one part again and again (testkit/faults.py,
testkit/outages.py) and counts what the user ended with; tests/adversarial/ runs the same rows
a few times each.
"""

from __future__ import annotations

import argparse
import random
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from scripts.fetch_model import fetch
from testkit.faults import (
    Row,
    Run,
    as_table,
    deleted_chat,
    describe,
    ingest_kill,
    reference_reply,
    worker_kill,
)
from testkit.faultstack import FaultStack, fault_stack
from testkit.outages import postgres_drop, redis_restart, web_restart


def repeat(name: str, count: int, run: Callable[[int], Run]) -> Row:
    row = Row(name)
    for number in range(count):
        started = time.monotonic()
        row.runs.append(run(number))
        latest = row.runs[-1]
        print(
            f"  {name} #{number + 1}: {latest.outcome}, recovery {latest.recovery_s or 0:.1f} s,"
            f" {len(latest.problems)} problems ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    return row


def fault_rows(stack: FaultStack, kills: int, runs: int, rng: random.Random) -> list[Row]:
    reference = reference_reply(stack)
    signals = [signal.SIGTERM, signal.SIGKILL]
    return [
        repeat(
            "inference worker kill -9 at a random token (final once, within 30 s, same text)",
            kills,
            lambda _: worker_kill(stack, rng, reference),
        ),
        repeat(
            "ingest worker kill -9 mid-document (ready with every chunk, or error)",
            runs,
            lambda number: ingest_kill(stack, f"{rng.randrange(1 << 30)}-{number}"),
        ),
        repeat(
            "Redis kill -9 + start mid-reply (reply final; new chat answered within 10 s)",
            runs,
            lambda _: redis_restart(stack),
        ),
        repeat(
            "PostgreSQL connections dropped (request in flight 503, then 2xx; reply done)",
            runs,
            lambda _: postgres_drop(stack),
        ),
        repeat(
            "web restarted, 3 sockets mid-reply (SIGTERM / SIGKILL alternately; 0 gaps, 0 repeats)",
            runs,
            lambda number: web_restart(stack, signals[number % 2]),
        ),
        repeat(
            "chat deleted while its reply is queued (dropped, no key or row left)",
            runs,
            lambda _: deleted_chat(stack, while_generating=False),
        ),
        repeat(
            "chat deleted while its reply is generated (dropped, no key or row left)",
            runs,
            lambda _: deleted_chat(stack, while_generating=True),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20, help="inference worker kills")
    parser.add_argument("--runs", type=int, default=5, help="runs of every other row")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"seed {seed}", flush=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as var_dir,
        fault_stack(Path(var_dir), fetch(), ingest=True, embed_batch_size=8) as stack,
    ):
        rows = fault_rows(stack, args.kills, args.runs, random.Random(seed))
    print()
    print(as_table(rows))
    for problem in describe(rows):
        print(f"- problem: {problem}")
    for row in rows:
        for note, count in Counter(note for run in row.runs for note in run.notes).items():
            print(f"- {row.name}: {note} ({count} of {len(row.runs)} runs)")
    print(f"\n{time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
