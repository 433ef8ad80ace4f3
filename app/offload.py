"""CPU-heavy calls that must not stop a gevent web process: under gunicorn's gevent worker all
requests and sockets share one OS thread, so a 50 ms argon2 hash would hold every one of them.
There the call runs on gevent's pool of native threads (the C code drops the GIL) while the
loop goes on; elsewhere (threads, tests, workers) it is an ordinary call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import gevent
from gevent import monkey

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: object) -> T:
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    result: T = gevent.get_hub().threadpool.apply(fn, args)
    return result
