"""A private QueueChat stack for fault injection: its own Redis server (killed and started again
on its port), its own PostgreSQL database, gunicorn and one inference worker, all with the
user's default reliability settings (lease, visibility timeout, attempts, rate limits)."""

from __future__ import annotations

import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.streams import StreamEvent, TokenStreams
from testkit.accounts import add_account
from testkit.processes import (
    WebProcess,
    WorkerProcess,
    chroma_server,
    free_port,
    pings,
    postgres_database,
    redis_executable,
    wait_until,
)

# Replies the inference worker decodes together: a CPU worker's default with four cores (fixed,
# so that the rows fill every place with one user's replies whatever the machine)
PLACES = 4


class RedisServer:
    """redis-server on a fixed port, persistent as deployed (AOF, fsync every second, as in
    docker-compose.yml and the embedded launcher), that a test may kill -9 and start again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.data_dir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.data_dir), "--save", "", "--appendonly", "yes",
                 "--appendfsync", "everysec"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: pings(self.url), timeout=10, what=f"redis-server on {self.port}")

    def kill(self) -> None:
        """As a crash: SIGKILL, no shutdown save."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class FaultStack:
    settings: Settings
    redis_server: RedisServer
    web: WebProcess
    worker: WorkerProcess
    db: Database
    token: str
    ingest: WorkerProcess | None = None
    restarts: int = 0  # inference workers that exited by themselves and were started again
    crashed: bool = False  # killed on purpose; the fault row starts the next one itself
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def supervise(self) -> None:
        """What supervisord (autorestart) and compose (restart: unless-stopped) do for the
        inference worker: one that exited is started again."""
        while not self.closing.wait(0.5):
            with self.lock:
                if not self.crashed and self.worker.proc.poll() is not None:
                    self.restarts += 1
                    self.worker.stop()  # closes its log
                    self.worker = WorkerProcess(self.settings, queues="inference,batch")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.web.http.request(method, path, headers=self.headers, **kwargs)

    def new_chat(self) -> int:
        response = self.request("POST", "/api/sessions", json={"title": "fault"})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def send(self, chat_id: int, content: str, **sampling: Any) -> int:
        """Sends a message; the id of its reply."""
        response = self.request(
            "POST", f"/api/sessions/{chat_id}/messages", json={"content": content, **sampling}
        )
        assert response.status_code == 202, response.text
        return int(response.json()["assistant_message_id"])

    def message(self, message_id: int) -> dict[str, Any]:
        response = self.request("GET", f"/api/messages/{message_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def streams(self) -> TokenStreams:
        return TokenStreams.for_settings(self.redis, self.settings)

    def stream(self, message_id: int) -> list[StreamEvent]:
        """Every event of the reply's Redis stream, as stored."""
        return self.streams().read(message_id)

    def log_paths(self) -> list[Path]:
        """The logs of the web process and of the current worker."""
        return [self.web.log_path, self.worker.log_path]

    def crash_worker(self) -> None:
        """kill -9 of the inference worker (main process and pool)."""
        with self.lock:
            self.crashed = True
            self.worker.kill()

    def start_worker(self) -> None:
        """What the supervisor does after a crash: a new worker process."""
        with self.lock:
            self.worker = WorkerProcess(self.settings, queues="inference,batch")
            self.crashed = False

    def stop_web(self, sig: signal.Signals) -> None:
        self.web.stop(sig)

    def start_web(self) -> None:
        """A new web process on the old one's port, so clients reconnect to the same address."""
        self.web = WebProcess(self.settings, port=self.web.port)

    def crash_ingest(self) -> None:
        assert self.ingest is not None
        self.ingest.kill()

    def start_ingest(self) -> None:
        self.ingest = WorkerProcess(self.settings, queues="ingest")

    def close(self) -> None:
        self.closing.set()
        with self.lock:
            self.worker.stop()
        if self.ingest is not None:
            self.ingest.stop()
        self.web.stop()


@contextmanager
def fault_stack(
    var_dir: Path, model_path: Path, *, ingest: bool = False, **overrides: Any
) -> Iterator[FaultStack]:
    """The whole stack on its own Redis server and PostgreSQL database; the user is an admin.
    ``ingest``: also a Chroma server and an ingest worker."""
    with ExitStack() as stack:
        if ingest:
            overrides["chroma_url"] = stack.enter_context(chroma_server(var_dir / "chroma"))
        redis_server = RedisServer(var_dir / "redis")
        stack.callback(redis_server.stop)
        database_url = stack.enter_context(postgres_database())
        upgrade(database_url)
        settings = Settings(
            var_dir=var_dir,
            database_url=database_url,
            redis_url=redis_server.url,
            model_path=model_path,
            n_threads=2,
            jwt_secret_key=uuid.uuid4().hex,
            registration="open",
            **{"parallel_sequences": PLACES, **overrides},
        )
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.sqlalchemy_url)
        stack.callback(db.dispose)
        account = {"username": f"faults{uuid.uuid4().hex[:6]}", "password": "fault password"}
        add_account(db, account["username"], account["password"])
        web = WebProcess(settings)
        try:
            worker = WorkerProcess(settings, queues="inference,batch")
        except BaseException:
            web.stop()
            raise
        login = web.http.post("/api/auth/login", json=account)
        faults = FaultStack(settings, redis_server, web, worker, db, login.json()["access_token"])
        stack.callback(faults.close)
        threading.Thread(target=faults.supervise, daemon=True, name="supervisor").start()
        if ingest:
            faults.start_ingest()
        yield faults
