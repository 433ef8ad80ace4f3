"""A whole QueueChat stack for benchmarks: Redis, SQLite, gunicorn web, one inference worker."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from scripts.fetch_model import fetch
from testkit.accounts import add_account
from testkit.processes import (
    WebProcess,
    WorkerProcess,
    chroma_server,
    redis_server,
)


@dataclass
class Stack:
    settings: Settings
    base_url: str
    token: str
    http: httpx.Client
    worker_rates: list[float] = field(default_factory=list)
    # per reply of pipeline_run: POST answered, and the worker's own TTFT (engine submit -> first
    # token), in ms: what lies between is the queue, the claim and the prompt, then the relay
    stages: list[tuple[float, float]] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# an inference worker loads its embedder (torch) beside its first jobs: about 20 s of both cores
# here, during which a chat's first token takes 2-8x as long (0.1 s before, 0.2-0.8 s during)
WARM_UP_S = 30.0


def warm_up(send: Callable[[], object], seconds: float = WARM_UP_S) -> None:
    """Repeats ``send`` (one short request) for ``seconds`` after a worker started, so that the
    figures measure the product, not the worker's start."""
    until = time.monotonic() + seconds
    send()
    while time.monotonic() < until:
        send()


@contextmanager
def running_stack(
    n_threads: int = 2,
    *,
    inference: bool = True,
    ingest: bool = False,
    log_dir: Path | None = None,
    **overrides: object,
) -> Iterator[Stack]:
    """Web (gunicorn) + the chosen workers + Redis + Chroma + SQLite; the user is an admin."""
    with ExitStack() as stack:
        var_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_url = stack.enter_context(redis_server())
        overrides.setdefault("chroma_url", stack.enter_context(chroma_server(var_dir / "chroma")))
        overrides.setdefault("rate_limits_enabled", False)  # benchmarks send faster than people
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
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()
        web = WebProcess(settings)
        stack.callback(web.stop)
        for queue, wanted in (("inference", inference), ("ingest", ingest)):
            if wanted:
                worker = WorkerProcess(settings, queues=queue, log_dir=log_dir)
                stack.callback(worker.stop)
        base_url = web.url
        account = {"username": f"bench{uuid.uuid4().hex[:6]}", "password": "bench password"}
        database = Database(settings.sqlalchemy_url)
        add_account(database, account["username"], account["password"])
        database.dispose()
        token = httpx.post(f"{base_url}/api/auth/login", json=account).json()["access_token"]
        http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        stack.callback(http.close)
        yield Stack(settings, base_url, token, http)
