"""Many sockets at once against a real web process, and what that process costs (threads,
memory, Redis clients): shared by tests/adversarial and bench/ws_fanout.py."""

from __future__ import annotations

import json
import selectors
import time
from pathlib import Path
from typing import Any

import redis
import websocket


def open_socket(url: str, token: str | None = None, **options: Any) -> websocket.WebSocket:
    """A raw socket; authenticated (its `ready` read) when a token is given."""
    ws = websocket.create_connection(url, timeout=30, **options)
    if token is not None:
        ws.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(ws.recv())
        assert ready["type"] == "ready", ready
    return ws


def first_frames(
    sockets: list[websocket.WebSocket], timeout: float
) -> list[tuple[float, dict[str, Any] | None]]:
    """For each socket, when (monotonic) its first frame came and the frame (None: it closed
    without one, or nothing came within ``timeout``), waiting on all of them at once."""
    found: list[tuple[float, dict[str, Any] | None]] = [(0.0, None)] * len(sockets)
    selector = selectors.DefaultSelector()
    for index, ws in enumerate(sockets):
        selector.register(ws.sock, selectors.EVENT_READ, index)
    deadline = time.monotonic() + timeout
    pending = len(sockets)
    while pending and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
            index = key.data
            selector.unregister(key.fileobj)
            pending -= 1
            try:
                frame: dict[str, Any] | None = json.loads(sockets[index].recv())
            except (websocket.WebSocketException, OSError, ValueError):
                frame = None
            found[index] = (time.monotonic(), frame)
    selector.close()
    return found


def discard(ws: websocket.WebSocket) -> None:
    """Closes the client side whatever state it is in (close() skips a socket it saw closed)."""
    ws.close()
    ws.shutdown()


def is_closed(ws: websocket.WebSocket, timeout: float = 5) -> bool:
    """True once the server closed the socket (a close frame or EOF) within ``timeout``."""
    ws.settimeout(timeout)
    try:
        while True:
            opcode, _ = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return True
    except websocket.WebSocketConnectionClosedException:
        return True
    except (websocket.WebSocketTimeoutException, TimeoutError):
        return False
    except OSError:
        return True


def process_tree(pid: int) -> list[int]:
    """The process and its children (gunicorn's master and its workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return [pid, *children]


def process_status(pid: int) -> dict[str, int]:
    """Threads and resident memory (KiB) of the process and its children, summed."""
    totals = {"threads": 0, "rss_kib": 0}
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        values = dict(line.split(":", 1) for line in lines if ":" in line)
        totals["threads"] += int(values["Threads"])
        totals["rss_kib"] += int(values["VmRSS"].split()[0])
    return totals


def connections_to(pid: int, port: int) -> int:
    """Established TCP connections from the process (and its children) to ``port``: e.g. the
    web process's Redis clients."""
    inodes = set()
    for member in process_tree(pid):
        for fd in Path(f"/proc/{member}/fd").glob("*"):
            try:
                target = fd.readlink().name
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def redis_port(url: str) -> int:
    return int(redis.Redis.from_url(url).connection_pool.connection_kwargs["port"])
