"""WebSocket fan-out on one web process (gunicorn, gevent worker), issue 15.

N sockets each watch the same R replies; a simulated worker appends token events to the replies'
Redis streams (as app/streams.py does) stamped with the time of the XADD. Reported: the delay
XADD -> client receive (p50/p99), both when the client's kernel received the bytes (the socket's
receive timestamp, SO_TIMESTAMPNS) and when the client's Python read them (this adds the client's
own queueing: one process reads its share of the sockets one after another), REST p99 (GET
/api/sessions, database-backed) with the sockets open and streaming divided by the same on an
idle server, and the web process's RSS, threads and Redis connections with no socket, with the
sockets open and while streaming.

    python -m bench.ws_fanout --sockets 200 1000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import selectors
import socket
import statistics
import struct
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis

from app.config import Settings
from app.db import Database
from app.enums import MessageRole, MessageStatus
from app.migrate import upgrade
from app.models import ChatSession, Message, User
from app.services.accounts import hash_password
from app.streams import TokenStreams
from testkit.processes import WebProcess, redis_server
from testkit.wsload import connections_to, open_socket, process_status, redis_port

PASSWORD = "bench password"
SENT = re.compile(rb'"sent":([0-9.]+)')  # the XADD time the simulated worker put in each token
# Linux: a receive time with each read. 35 is its value on x86-64 and arm64 (where the socket
# module does not name it); "qq" is struct timespec on those 64-bit ABIs (seconds, ns).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
STAMP = struct.Struct("qq")


def client_process(
    url: str,
    token: str,
    count: int,
    message_ids: list[int],
    opened: Any,
    ready: Any,
    results: Any,
) -> None:
    """Opens ``count`` sockets, and once every client has opened its own, has them watch every
    reply; ready once each socket's pong says its subscribes were served; then reads until
    every reply is done. Frames are parsed from each socket's raw bytes in bulk: a per-frame
    client library would be the bottleneck on this machine, not the server."""
    sockets = [open_socket(url, token) for _ in range(count)]
    opened.wait()  # no socket waits to authenticate behind another client's subscribes
    for ws in sockets:
        for message_id in message_ids:
            ws.send(json.dumps({"type": "subscribe", "message_id": message_id}))
        ws.send(json.dumps({"type": "ping"}))  # answered after the subscribes before it
    pongs = 0
    selector = selectors.DefaultSelector()
    buffers = [b""] * count
    for index, ws in enumerate(sockets):
        ws.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        selector.register(ws.sock, selectors.EVENT_READ, index)
    delays: list[float] = []  # to the kernel's receive time (the newest packet in the read)
    read_delays: list[float] = []  # to when this process read them
    stampless = 0  # reads that came without a receive time (timed at the read instead)
    finished = 0
    expected = count * len(message_ids)
    deadline = time.time() + 600
    while finished < expected and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            index = key.data
            raw = sockets[index].sock
            chunk, ancillary, _, _ = raw.recvmsg(1 << 20, socket.CMSG_SPACE(STAMP.size))
            now = time.time()
            stamped = next(
                (sec + nsec / 1e9 for level, kind, stamp in ancillary
                 if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS)
                 for sec, nsec in [STAMP.unpack(stamp[: STAMP.size])]),
                None,
            )  # fmt: skip
            stampless += stamped is None
            received = now if stamped is None else stamped
            frames, buffers[index] = split_frames(buffers[index] + chunk, raw)
            payload = b"\n".join(frames)  # one regex pass per read, not a JSON parse per frame
            sent_at = [float(sent) for sent in SENT.findall(payload)]
            delays += [(received - sent) * 1000 for sent in sent_at]
            read_delays += [(now - sent) * 1000 for sent in sent_at]
            finished += payload.count(b'"type":"done"')
            if b'"type":"pong"' in payload:
                pongs += payload.count(b'"type":"pong"')
                if pongs == count:
                    ready.put(count)
    results.put((delays, read_delays, finished, expected, stampless))
    for ws in sockets:
        ws.close()


def split_frames(data: bytes, raw: Any) -> tuple[list[bytes], bytes]:
    """Whole text frames (server frames are unmasked) and the bytes left over; pings answered."""
    frames, offset = [], 0
    while len(data) - offset >= 2:
        opcode, length = data[offset] & 0x0F, data[offset + 1] & 0x7F
        start = offset + 2
        if length == 126:
            length, start = int.from_bytes(data[start : start + 2], "big"), start + 2
        elif length == 127:
            length, start = int.from_bytes(data[start : start + 8], "big"), start + 8
        if len(data) < start + length:
            break
        payload = data[start : start + length]
        if opcode == 0x1:
            frames.append(payload)
        elif opcode == 0x9:  # ping: a masked pong (zero mask) with the same payload
            raw.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        offset = start + length
    return frames, data[offset:]


def rest_latencies(web: WebProcess, token: str, count: int) -> list[float]:
    found = []
    with httpx.Client(base_url=web.url, headers={"Authorization": f"Bearer {token}"}) as http:
        for _ in range(count):
            started = time.perf_counter()
            assert http.get("/api/sessions").status_code == 200
            found.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    return found


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0


def costs(web: WebProcess, settings: Settings) -> str:
    pid = worker_pid(web)
    status = process_status(pid)
    clients = connections_to(pid, redis_port(settings.redis_url))
    return f"RSS {status['rss_kib'] / 1024:.0f} MiB, threads {status['threads']}, Redis {clients}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(web: WebProcess) -> int:
    from testkit.wsload import process_tree

    return process_tree(web.proc.pid)[-1]  # gunicorn's one worker


def run(sockets: int, replies: int, events: int, interval_ms: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as var, redis_server() as redis_url:
        settings = Settings(
            var_dir=Path(var),
            redis_url=redis_url,
            jwt_secret_key=uuid.uuid4().hex,
            rate_limits_enabled=False,
            # one client address and one account hold every socket here
            ws_max_sockets_per_ip=sockets + 10,
            ws_max_sockets_per_user=sockets + 10,
        )
        upgrade(settings.sqlalchemy_url)
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.sqlalchemy_url)
        username = f"bench{uuid.uuid4().hex[:6]}"
        with database.session() as db:
            user = User(username=username, password_hash=hash_password(PASSWORD))
            db.add(user)
            db.flush()
            chats = [ChatSession(owner_id=user.id, title=f"chat {n}") for n in range(replies)]
            db.add_all(chats)
            db.flush()
            rows = [
                Message(session_id=chat.id, role=MessageRole.ASSISTANT, content="",
                        status=MessageStatus.GENERATING)
                for chat in chats
            ]  # fmt: skip
            db.add_all(rows)
            db.flush()
            message_ids = [row.id for row in rows]
        database.dispose()
        web = WebProcess(settings)
        try:
            login = {"username": username, "password": PASSWORD}
            token = web.http.post("/api/auth/login", json=login).json()["access_token"]
            rest_latencies(web, token, 20)  # warm up
            idle_rest = rest_latencies(web, token, 200)
            print(f"\n== {sockets} sockets, {replies} replies x {events} events "
                  f"every {interval_ms:g} ms, all watched by every socket")  # fmt: skip
            print(f"idle: {costs(web, settings)}")
            context = mp.get_context("spawn")
            shares = [sockets // clients + (1 if n < sockets % clients else 0)
                      for n in range(clients)]  # fmt: skip
            shares = [share for share in shares if share]
            ready, results = context.Queue(), context.Queue()
            opened = context.Barrier(len(shares))
            procs = [
                context.Process(
                    target=client_process,
                    args=(web.ws_url, token, share, message_ids, opened, ready, results),
                )
                for share in shares
            ]
            for proc in procs:
                proc.start()
            for _ in procs:
                ready.get(timeout=300)
            time.sleep(2)
            print(f"{sockets} sockets open: {costs(web, settings)}")
            open_rest = rest_latencies(web, token, 100)
            # a process of its own: a writer thread here would hold this process's GIL while
            # the REST client below times its calls
            writer = context.Process(
                target=write_events, args=(settings, message_ids, events, interval_ms)
            )
            cpu_before = cpu_seconds(worker_pid(web))
            writer.start()
            streaming_rest = rest_latencies(web, token, 100)
            print(f"while streaming: {costs(web, settings)}")
            writer.join()
            cpu = cpu_seconds(worker_pid(web)) - cpu_before
            delays: list[float] = []
            read_delays: list[float] = []
            finished = expected = stampless = 0
            for _ in procs:
                got, read, done, wanted, unstamped = results.get(timeout=600)
                delays += got
                read_delays += read
                finished += done
                expected += wanted
                stampless += unstamped
            for proc in procs:
                proc.join(30)
            report(delays, read_delays, finished, expected, idle_rest, open_rest + streaming_rest)
            print(f"reads without a kernel receive time (timed at the read): {stampless}")
            frames = sockets * replies * (events + 1)
            print(f"web CPU while streaming: {cpu:.1f} s for {frames} frames = "
                  f"{cpu * 1e6 / frames:.0f} us per frame")  # fmt: skip
        finally:
            web.stop()


def write_events(
    settings: Settings, message_ids: list[int], events: int, interval_ms: float
) -> None:
    streams = TokenStreams.for_settings(redis.Redis.from_url(settings.redis_url), settings)
    simulate_worker(streams, message_ids, events, interval_ms)


def simulate_worker(
    streams: TokenStreams, message_ids: list[int], events: int, interval_ms: float
) -> None:
    """Every reply gets a token event every ``interval_ms`` (the replies interleaved)."""
    for n in range(events):
        started = time.perf_counter()
        for message_id in message_ids:
            streams.append(message_id, "token", text=f" t{n}", sent=time.time())
        time.sleep(max(0.0, interval_ms / 1000 - (time.perf_counter() - started)))
    for message_id in message_ids:
        streams.append(message_id, "done", status="done")


def report(
    delays: list[float],
    read_delays: list[float],
    finished: int,
    expected: int,
    idle: list[float],
    busy: list[float],
) -> None:
    print(f"frames delivered: {len(delays)} tokens, {finished}/{expected} done")
    for label, values in (("received", delays), ("read by the client", read_delays)):
        print(f"XADD -> {label}: p50 {percentile(values, 50):.1f} ms, p99 "
              f"{percentile(values, 99):.1f} ms, max {max(values):.1f} ms")  # fmt: skip
    idle_p99, busy_p99 = percentile(idle, 99), percentile(busy, 99)
    print(f"REST GET /api/sessions p99: idle {idle_p99:.1f} ms, sockets open {busy_p99:.1f} ms "
          f"= {busy_p99 / idle_p99:.2f}x (p50 {percentile(idle, 50):.1f} / "
          f"{percentile(busy, 50):.1f} ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--replies", type=int, default=10)
    parser.add_argument("--events", type=int, default=100, help="token events per reply")
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    args = parser.parse_args()
    for count in args.sockets:
        run(count, args.replies, args.events, args.interval_ms, args.clients)


if __name__ == "__main__":
    main()
