"""The run command on a fresh clone, timed from the command to a ready system.

Run: .venv/bin/python -m bench.first_run   (figures only on a quiet machine)

Clones this repository (committed state) into a temporary folder and runs the README's first
command there (`./scripts/run.sh`): a fresh `.venv`, `node_modules`, database and model copy,
with what a machine that ran it once keeps (the llama-cpp-python wheel under
~/.cache/queuechat/wheels, uv's, pip's and npm's download caches). Redis is pointed at a port
where nothing answers, so the bundled one starts as on a fresh machine. Prints the install's
steps, the time to /readyz answering 200 (database, Redis and a worker on every queue) and the
time to the first streamed reply, then stops everything with Ctrl-C's signal.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from testkit.wsclient import ChatSocket

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "first run password"


def wait_ready(base: str, process: subprocess.Popen[str], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit(f"the run command exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"not ready within {timeout:.0f} s")


def first_reply(base: str, ws: str) -> None:
    """Signs in as the first admin and waits for a whole streamed reply."""
    login = {"username": "admin", "password": PASSWORD}
    token = httpx.post(f"{base}/api/auth/login", json=login).json()["access_token"]
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    chat = http.post("/api/sessions", json={}).json()
    sent = http.post(f"/api/sessions/{chat['id']}/messages", json={"content": "Say hi."})
    sent.raise_for_status()
    sock = ChatSocket(ws, token)
    sock.subscribe(int(sent.json()["assistant_message_id"]))
    while sock.recv()["type"] not in {"done", "error", "cancelled"}:
        pass
    sock.close()
    http.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8090, help="the web port of the clone")
    parser.add_argument("--redis-port", type=int, default=6399, help="nothing may answer here")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qc-first-run-") as folder:
        clone = Path(folder) / "queuechat"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {
            **os.environ,
            "WEB_PORT": str(args.port),
            "FLOWER_PORT": str(args.port + 1),
            "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
            "CHROMA_URL": f"http://127.0.0.1:{args.port + 2}",
            "ADMIN_USERNAME": "admin",
            "ADMIN_PASSWORD": PASSWORD,
        }
        env.pop("VIRTUAL_ENV", None)
        started = time.monotonic()
        process = subprocess.Popen(
            ["./scripts/run.sh"], cwd=clone, env=env, text=True, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
        reader.start()
        base = f"http://127.0.0.1:{args.port}"
        try:
            ready = wait_ready(base, process, args.timeout)
            first_reply(base, f"ws://127.0.0.1:{args.port}/ws")
            replied = time.monotonic()
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for line in lines:
            if line.startswith("[install]"):
                print(line.rstrip())
        print(f"run command -> /readyz 200: {ready - started:.1f} s")
        print(f"run command -> first reply streamed: {replied - started:.1f} s")


if __name__ == "__main__":
    main()
