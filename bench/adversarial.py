"""The adversarial suite at full count, and the table that goes in the README: the fault rows,
then bad input, access and load (bench/adversarial_suites.py).

Run: .venv/bin/python -m bench.adversarial [--kills 20] [--runs 5] [--seed N] [--rows a,b]
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

from bench.adversarial_suites import SUITES, suite_rows
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
        try:
            latest = run(number)
        except Exception as exc:  # the table still gets printed
            latest = Run("raised", None, [f"the run raised {exc!r}"])
        row.runs.append(latest)
        print(
            f"  {name} #{number + 1}: {latest.outcome}, recovery {latest.recovery_s or 0:.1f} s,"
            f" {len(latest.problems)} problems ({time.monotonic() - started:.0f} s)",
            *(f"\n    {problem}" for problem in latest.problems),
            flush=True,
        )
    return row


ROWS = {
    "kill": "inference worker kill -9 at a random token (final once, within 30 s, same text)",
    "ingest": "ingest worker kill -9 mid-document (ready with every chunk, or error)",
    "redis": "Redis kill -9 + start mid-reply (reply final; new chat answered within 10 s)",
    "postgres": "PostgreSQL connections dropped (request in flight 503, then 2xx; reply done)",
    "web": "web restarted, 3 sockets mid-reply (SIGTERM / SIGKILL alternately; 0 gaps, 0 repeats)",
    "deleted-queued": "chat deleted while its reply is queued (dropped, no key or row left)",
    "deleted-generating": "chat deleted while its reply is generated (dropped, no key or row left)",
}


def fault_rows(
    stack: FaultStack, kills: int, runs: int, rng: random.Random, wanted: set[str]
) -> list[Row]:
    reference = reference_reply(stack) if "kill" in wanted else ""
    signals = [signal.SIGTERM, signal.SIGKILL]
    scenarios: dict[str, tuple[int, Callable[[int], Run]]] = {
        "kill": (kills, lambda _: worker_kill(stack, rng, reference)),
        "ingest": (runs, lambda n: ingest_kill(stack, f"{rng.randrange(1 << 30)}-{n}")),
        "redis": (runs, lambda _: redis_restart(stack)),
        "postgres": (runs, lambda _: postgres_drop(stack)),
        "web": (runs, lambda n: web_restart(stack, signals[n % 2])),
        "deleted-queued": (runs, lambda _: deleted_chat(stack, while_generating=False)),
        "deleted-generating": (runs, lambda _: deleted_chat(stack, while_generating=True)),
    }
    return [repeat(ROWS[key], *scenarios[key]) for key in ROWS if key in wanted]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20, help="inference worker kills")
    parser.add_argument("--runs", type=int, default=5, help="runs of every other row")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--load-requests", type=int, default=30, help="chats per load phase")
    every = [*ROWS, *SUITES, "load"]
    parser.add_argument("--rows", default=",".join(every), help="which rows, comma-separated")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"seed {seed}", flush=True)
    started = time.monotonic()
    wanted = set(args.rows.split(","))
    rows = []
    if wanted & set(ROWS):
        with (
            tempfile.TemporaryDirectory() as var_dir,
            # rate limits off: the rows send faster than people (a run with every place busy
            # sends 6)
            fault_stack(
                Path(var_dir), fetch(), ingest=True, embed_batch_size=8, rate_limits_enabled=False
            ) as stack,
        ):
            rows = fault_rows(stack, args.kills, args.runs, random.Random(seed), wanted)
    rows += suite_rows(wanted, args.load_requests)  # after the stack: each starts its own
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
