"""Faults in the workers' path: the inference worker killed at a random token, a chat deleted
under its reply's job. Default reliability settings (lease, visibility timeout, attempts)."""

from __future__ import annotations

import random

from testkit.faults import Row, as_table, deleted_chat, reference_reply, worker_kill
from testkit.faultstack import FaultStack

KILLS = 3  # bench/adversarial.py runs 20


def test_worker_killed_at_a_random_token_redoes_the_reply_once(faults: FaultStack) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    reference = reference_reply(faults)
    row = Row(
        "inference worker kill -9", [worker_kill(faults, rng, reference) for _ in range(KILLS)]
    )
    counts = f"seed {seed}\n{as_table([row])}\n" + "\n".join(row.problems())
    assert not row.problems(), counts
    assert [run.outcome for run in row.runs] == ["done"] * KILLS, counts


def test_a_reply_whose_chat_was_deleted_in_the_queue_is_dropped(faults: FaultStack) -> None:
    run = deleted_chat(faults, while_generating=False)
    assert not run.problems, "\n".join(run.problems)
    assert run.outcome == "dropped"


def test_a_reply_whose_chat_was_deleted_while_generating_is_dropped(faults: FaultStack) -> None:
    run = deleted_chat(faults, while_generating=True)
    assert not run.problems, "\n".join(run.problems)
    assert run.outcome == "dropped"
