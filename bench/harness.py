"""A whole QueueChat stack for benchmarks: Redis, SQLite, gunicorn web, one inference worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT, Settings
from app.migrate import upgrade
from scripts.fetch_model import fetch
from tests.services import WorkerProcess, free_port, redis_server, settings_env, wait_until


@dataclass
class Stack:
    settings: Settings
    base_url: str
    token: str
    http: httpx.Client

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_stack(n_threads: int = 2, **overrides: object) -> Iterator[Stack]:
    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_url = stack.enter_context(redis_server())
        base = redis_url.rsplit("/", 1)[0]
        settings = Settings(
            var_dir=var_dir,
            redis_url=f"{base}/12",
            model_path=fetch(),
            n_threads=n_threads,
            jwt_secret_key=uuid.uuid4().hex,
            default_temperature=0.0,
            **overrides,  # type: ignore[arg-type]
        )
        upgrade(settings.sqlalchemy_url)
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()
        port = free_port()
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "32",
                "--bind",
                f"127.0.0.1:{port}",
                "app.wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=settings_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        stack.callback(lambda: (os.killpg(web.pid, signal.SIGTERM), web.wait(20)))
        worker = WorkerProcess(settings)
        stack.callback(worker.stop)
        base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(f"{base_url}/healthz"), timeout=60, what="web")
        account = {"username": f"bench{uuid.uuid4().hex[:6]}", "password": "bench password"}
        httpx.post(f"{base_url}/api/auth/register", json=account).raise_for_status()
        token = httpx.post(f"{base_url}/api/auth/login", json=account).json()["access_token"]
        http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        stack.callback(http.close)
        yield Stack(settings, base_url, token, http)
