"""What every socket of a web process shares, started with the first socket (after gunicorn's
fork, never at import): the stream reader, the notice listener and one periodic pass. Three
threads (greenlets under gevent) and three Redis connections, however many sockets are open."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis
from flask import Flask

from app.resources import Resources
from app.streams import TokenStreams
from app.ws.registry import NoticeListener, SocketRegistry
from app.ws.relay import StreamHub

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

    def tick(self) -> None:
        """The periodic pass: one loop per process, whatever the number of sockets."""
        recheck_s = self.resources.settings.ws_recheck_s
        next_recheck = time.monotonic() + recheck_s
        while not self.stopped.wait(TICK_S):
            try:
                self.hub.check_waiting()
                self.registry.end_expired()
                if time.monotonic() >= next_recheck:
                    next_recheck = time.monotonic() + recheck_s
                    self.registry.recheck(self.resources.db)
            except Exception:
                logger.exception("WebSocket periodic pass failed")

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
    # the reader blocks in XREAD: a client (one connection) of its own, apart from the pool
    reader_client = redis.Redis.from_url(settings.redis_url, socket_keepalive=True)
    reader = TokenStreams.for_settings(reader_client, settings)
    registry = SocketRegistry(settings.ws_max_sockets_per_user, settings.ws_max_sockets_per_ip)
    runtime = SocketRuntime(
        hub=StreamHub(resources.streams, reader, resources.db),
        registry=registry,
        listener=NoticeListener(redis.Redis.from_url(settings.redis_url), registry),
        resources=resources,
        stopped=threading.Event(),
    )
    for name, target in (
        ("ws-stream-reader", runtime.hub.run),
        ("ws-notices", runtime.listener.run),
        ("ws-periodic", runtime.tick),
    ):
        threading.Thread(target=target, name=name, daemon=True).start()
    return runtime
