"""The run command's launcher on a bare machine: bundled Redis, migrations, admin, all processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from testkit.processes import free_port, wait_until
from testkit.wsclient import ChatSocket

SECRET_MESSAGE = "Say hello to the secret parrot."
DRAGON = "Write a long story about a dragon."
FACT = "The launch test fact is blue."


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "scripts/launch.py"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def supervised_pids(config: Path) -> dict[str, int]:
    """name: pid of every program supervisord runs (0 when not running)."""
    out = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "supervisorctl"), "-c", str(config), "status"],
        capture_output=True,
        text=True,
    ).stdout
    pids = {}
    for line in out.splitlines():
        fields = line.split()
        pid = re.search(r"pid (\d+)", line)
        pids[fields[0]] = int(pid.group(1)) if pid and fields[1] == "RUNNING" else 0
    return pids


def crash_and_recover(
    base: str, headers: dict[str, str], token: str, web: int, config: Path
) -> None:
    """kill -9 of the inference worker mid-reply: the others keep running, it is restarted, and
    the reply it was generating is taken up again and finishes once, with default settings."""
    before = supervised_pids(config)
    assert all(before[name] for name in ("web", "inference", "ingest", "flower")), before
    chat = httpx.post(f"{base}/api/sessions", json={}, headers=headers).json()
    reply = httpx.post(
        f"{base}/api/sessions/{chat['id']}/messages",
        json={"content": "Write a long story about a dragon.", "max_tokens": 120},
        headers=headers,
    ).json()
    sock = ChatSocket(f"ws://127.0.0.1:{web}/ws", token)
    sock.subscribe(reply["assistant_message_id"])
    sock.take(3)
    os.kill(before["inference"], signal.SIGKILL)
    assert healthy(f"{base}/healthz")  # the web server did not go down with it
    events = sock.until_final()
    sock.close()
    types = [event["type"] for event in events]
    assert types.count("reset") == 1 and types[-1] == "done", types
    after = supervised_pids(config)
    assert after["inference"] not in (0, before["inference"]), after  # restarted
    for name in ("web", "ingest", "flower"):
        assert after[name] == before[name], (name, before, after)  # untouched


@pytest.mark.timeout(400)
def test_launcher_runs_everything_and_reuses_state(tmp_path: Path, model_path: Path) -> None:
    web, flower, redis_port, chroma = free_port(), free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        WEB_PORT=str(web),
        FLOWER_PORT=str(flower),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        N_THREADS="2",
        MODEL_PATH=str(model_path),
        WEB_WORKERS="1",
        CHROMA_URL=f"http://127.0.0.1:{chroma}",
    )
    env.pop("DATABASE_URL", None)
    base = f"http://127.0.0.1:{web}"
    log = tmp_path / "first.log"
    proc = start(env, log)
    try:
        wait_until(lambda: healthy(f"{base}/healthz"), timeout=120, what="web server")
        output = log.read_text()
        assert "spawned: 'redis'" in output, "bundled redis-server was not started"
        assert "spawned: 'chroma'" in output, "the bundled Chroma server was not started"
        assert "created admin 'admin'" in output, output[-2000:]
        password_file = tmp_path / "var" / "admin_password"
        assert password_file.stat().st_mode & 0o077 == 0  # the owner's alone
        password = password_file.read_text().strip()
        login = httpx.post(
            f"{base}/api/auth/login", json={"username": "admin", "password": password}
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{base}/api/auth/me", headers=headers).json()
        assert me["role"] == "admin"
        flower_url = f"http://127.0.0.1:{flower}/"
        wait_until(lambda: answers(flower_url), timeout=60, what="Flower")
        assert httpx.get(flower_url, timeout=5).status_code == 401
        chat = httpx.post(f"{base}/api/sessions", json={}, headers=headers).json()
        request_id = f"launch-{os.getpid()}"
        reply = httpx.post(
            f"{base}/api/sessions/{chat['id']}/messages",
            json={"content": SECRET_MESSAGE, "max_tokens": 12},
            headers={**headers, "X-Request-ID": request_id},
        ).json()
        wait_until(
            lambda: "inference@" in log.read_text() and " ready." in log.read_text(),
            timeout=60,
            what="inference worker",
        )
        sock = ChatSocket(f"ws://127.0.0.1:{web}/ws", token)
        sock.subscribe(reply["assistant_message_id"])
        events = sock.until_final()
        sock.close()
        assert events[-1]["type"] == "done"
        followed = [line for line in log.read_text().splitlines() if request_id in line]
        assert any("service=web" in line for line in followed), followed
        worker_lines = [line for line in followed if "service=worker" in line]
        assert worker_lines and all(
            f"message_id={reply['assistant_message_id']}" in line for line in worker_lines
        ), followed
        crash_and_recover(base, headers, token, web, tmp_path / "var" / "supervisord.conf")
        uploaded = httpx.post(
            f"{base}/api/documents",
            headers=headers,
            files={"files": ("fact.txt", FACT.encode())},
        )
        assert uploaded.status_code == 202, uploaded.text
        document_id = uploaded.json()["items"][0]["id"]
        wait_until(
            lambda: (
                httpx.get(f"{base}/api/documents/{document_id}", headers=headers).json()["status"]
                == "ready"
            ),
            timeout=120,
            what="document indexed by the ingest worker",
        )
    finally:
        assert stop(proc) == 0 or proc.returncode is not None
    assert not healthy(f"{base}/healthz"), "Ctrl-C left the web server running"
    assert (tmp_path / "var" / "queuechat.db").exists()

    second_log = tmp_path / "second.log"
    proc = start(env, second_log)
    try:
        wait_until(lambda: healthy(f"{base}/healthz"), timeout=120, what="web server again")
        assert "created admin" not in second_log.read_text()
        again = httpx.post(
            f"{base}/api/auth/login", json={"username": "admin", "password": password}
        )
        assert again.status_code == 200
        time.sleep(0.5)
    finally:
        stop(proc)
    # Everything both runs printed: no password, token or content of a message or document.
    everything = log.read_text() + second_log.read_text()
    assert "trychroma.com" not in everything and "(((((" not in everything  # Chroma's banner
    for secret in (password, token, again.json()["access_token"], SECRET_MESSAGE, DRAGON, FACT):
        assert secret not in everything, f"{secret[:12]}... is in the log"


def test_the_launcher_starts_an_inference_worker_per_listed_model() -> None:
    """With MODELS, the Procfile's inference worker runs once per model (WORKER_MODEL), each
    with a node name of its own; the other programs stay as they are."""
    from scripts.launch import model_workers, procfile_processes

    inference = procfile_processes(PROJECT_ROOT / "Procfile")["inference"]
    programs = model_workers(inference, ["small", "large.v2"])
    assert list(programs) == ["inference-small", "inference-large-v2"]
    large = programs["inference-large-v2"]
    assert large.startswith("env WORKER_MODEL=large.v2 celery -A workers worker -Q inference,batch")
    assert "-n inference-large.v2@%h" in large and "-n inference@" not in large
