"""What every socket of a web process shares, started with the first socket (after gunicorn's
fork, never at import): the stream reader, the notice listener and one periodic pass. Three
threads (greenlets under gevent) and three Redis connections, however many sockets are open."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from flask import Flask

from app.resources import Resources
from app.streams import TokenStreams
from app.ws.registry import NoticeListener, SocketRegistry
from app.ws.relay import BLOCK_MS, StreamHub
from app.ws.seats import RENEW_EVERY_S, Seats

logger = logging.getLogger(__name__)
RUNTIME_KEY = "queuechat.ws"
TICK_S = 1.0  # queue positions, expired streams and expired tokens: checked this often
_start_lock = threading.Lock()


@dataclass
class SocketRuntime:
    hub: StreamHub
    registry: SocketRegistry
    listener: NoticeListener
    resources: Resources
    stopped: threading.Event
    # socket commands that touch the database, so many at once: SQLite does not yield to
    # gevent, and a thousand queued commands must not hold up every request behind them
    commands: threading.BoundedSemaphore

    def tick(self) -> None:
        """The periodic pass: one loop per process, whatever the number of sockets."""
        recheck_s = self.resources.settings.ws_recheck_s
        next_recheck = time.monotonic() + recheck_s
        next_renewal = time.monotonic() + RENEW_EVERY_S
        while not self.stopped.wait(TICK_S):
            try:
                self.hub.check_waiting()
                self.registry.end_expired()
                if time.monotonic() >= next_renewal:
                    next_renewal = time.monotonic() + RENEW_EVERY_S
                    self.registry.renew_seats()
                if time.monotonic() >= next_recheck:
                    next_recheck = time.monotonic() + recheck_s
                    self.registry.recheck(self.resources.db)
            except Exception:
                logger.exception("WebSocket periodic pass failed")

    @contextmanager
    def command_slot(self) -> Iterator[None]:
        """One of the process's command slots; on leaving it, every greenlet that is ready
        (requests, the waiting commands) runs before this one's next command."""
        with self.commands:
            yield
        time.sleep(0)

    def stop(self) -> None:
        self.stopped.set()
        self.hub.stopped.set()
        self.listener.stopped.set()


def socket_runtime(app: Flask) -> SocketRuntime:
    """The process's runtime, started on first use."""
    found: SocketRuntime | None = app.extensions.get(RUNTIME_KEY)
    if found is not None:
        return found
    with _start_lock:
        found = app.extensions.get(RUNTIME_KEY)
        if found is None:
            found = start_runtime(app.extensions["queuechat"])
            app.extensions[RUNTIME_KEY] = found
    return found


def start_runtime(resources: Resources) -> SocketRuntime:
    settings = resources.settings
    # the reader blocks in XREAD: a client (one connection) of its own, apart from the pool, and
    # a socket timeout past the block (redis-py's default, 5 s, is the block itself: a quiet
    # stream would end each read in a timeout and a second's pause)
    reader_client = redis.Redis.from_url(
        settings.redis_url, socket_keepalive=True, socket_timeout=BLOCK_MS / 1000 + 10
    )
    reader = TokenStreams.for_settings(reader_client, settings)
    registry = SocketRegistry(
        settings.ws_max_sockets_per_user, settings.ws_max_sockets_per_ip, Seats(resources.redis)
    )
    runtime = SocketRuntime(
        hub=StreamHub(resources.streams, reader, resources.db, settings),
        registry=registry,
        listener=NoticeListener(redis.Redis.from_url(settings.redis_url), registry),
        resources=resources,
        stopped=threading.Event(),
        commands=threading.BoundedSemaphore(settings.ws_command_concurrency),
    )
    for name, target in (
        ("ws-stream-reader", runtime.hub.run),
        ("ws-notices", runtime.listener.run),
        ("ws-periodic", runtime.tick),
    ):
        threading.Thread(target=target, name=name, daemon=True).start()
    return runtime
