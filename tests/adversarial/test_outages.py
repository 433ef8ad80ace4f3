"""Services taken away under a running reply: Redis restarted, PostgreSQL's connections dropped,
the web process restarted with sockets open. Each run's problems name the broken promises."""

from __future__ import annotations

import signal

import pytest

from testkit.faultstack import FaultStack
from testkit.outages import postgres_drop, redis_restart, web_restart


def test_redis_restarted_mid_reply(faults: FaultStack) -> None:
    """The reply ends final and its client is told; a new message is answered within 10 s,
    with web and worker left running."""
    run = redis_restart(faults)
    assert not run.problems, "\n".join(run.problems)
    assert run.outcome == "done"


def test_postgres_connections_dropped(faults: FaultStack) -> None:
    """The request in flight gets 503 with the error envelope, the next ones succeed, the reply
    being generated ends done and a new message is answered."""
    run = postgres_drop(faults)
    assert not run.problems, "\n".join(run.problems)
    assert run.outcome == "503 then done"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["deploy", "crash"])
def test_web_restarted_with_sockets_open(faults: FaultStack, sig: signal.Signals) -> None:
    """Three clients following a reply reconnect with their last event id: every event of the
    stream exactly once, in order, and the stored text."""
    run = web_restart(faults, sig)
    assert not run.problems, "\n".join(run.problems)
    assert run.outcome == "done"
