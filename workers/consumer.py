"""The workers' broker consumer: Celery's own, kept running through a Redis restart.

celery/kombu 5.7 fail in their own clean-up when Redis goes away under a connected consumer:
``collect()`` gives up on the channel at its first read of the dead socket and drops the
transport, then ``close()`` tries the channel again, and its requeue of the unacknowledged
messages asks the dropped transport for Redis's host (``AttributeError: 'NoneType' object
has no attribute 'hostname'``). Celery takes that for an unrecoverable error and the whole
worker exits, with a model to load again before it answers anyone.

Here the worker keeps what it holds instead: the lost connection's channels do not requeue
the messages of jobs this worker goes on running (so kombu never reaches for the dropped
transport, and no job is delivered twice while it runs), and once Celery has closed them they
stay attached to their transport, so each of those jobs is acknowledged through its own
channel when it ends. The consumer reconnects as after any lost connection. A job held here
is never lost: were this worker to die before acknowledging it, its message stays in kombu's
``unacked`` hash, taken up again by the reaper (workers/unacked.py) or the visibility timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer


class Consumer(CeleryConsumer):  # type: ignore[misc]  # celery is untyped
    """``worker_consumer`` in celery_config.py."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        lost = None if self.connection is None else LostConnection.of(self.connection)
        super().on_connection_error_after_connected(exc)
        if lost is not None:
            lost.keep_acking()


@dataclass(frozen=True)
class LostConnection:
    """A broker connection Redis left, with the channels its running jobs are acknowledged on."""

    connection: Any
    transport: Any
    channels: tuple[Any, ...]

    @classmethod
    def of(cls, connection: Any) -> LostConnection:
        transport = connection.transport
        channels = tuple(getattr(transport, "channels", ()))
        for channel in channels:
            channel.do_restore = False  # this worker goes on running what it holds
        return cls(connection, transport, channels)

    def keep_acking(self) -> None:
        """What Celery's clean-up detached, given back: the channels build a fresh connection
        pool from it at their next acknowledgement."""
        self.transport.client = self.connection
        for channel in self.channels:
            channel.connection = self.transport
