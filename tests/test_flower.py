"""Flower, started as the Procfile says with the launcher's basic auth, is never open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT, Settings
from testkit.processes import free_port, settings_env, wait_until


def procfile_command(name: str) -> str:
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} process in the Procfile")


@pytest.fixture()
def flower(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    env = settings_env(settings)
    env.update(  # as scripts/launch.py does
        WEB_HOST="127.0.0.1",
        FLOWER_PORT=str(port),
        FLOWER_BASIC_AUTH=settings.flower_basic_auth(),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    log = (tmp_path / "flower.log").open("w")
    proc = subprocess.Popen(
        ["bash", "-c", "exec " + procfile_command("flower")], cwd=PROJECT_ROOT, env=env,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(url + "/healthcheck", timeout=1).status_code in (200, 401)
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout=60, what=f"flower (log: {tmp_path / 'flower.log'})")
        yield url, settings.flower_basic_auth()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


def test_flower_rejects_requests_without_the_password(
    flower: tuple[str, str], settings: Settings
) -> None:
    url, credentials = flower
    user, password = credentials.split(":", 1)
    assert password and len(password) >= 20  # generated under var/ when FLOWER_PASSWORD is unset
    assert (settings.var_dir / "flower_password").read_text().strip() == password
    # Flower itself leaves /healthcheck and /metrics (task and worker counts) unauthenticated;
    # every page and API call is behind the password.
    for path in ("/", "/workers", "/tasks", "/broker", "/api/workers", "/api/tasks"):
        assert httpx.get(url + path, timeout=5).status_code == 401, path
        assert httpx.get(url + path, auth=(user, "wrong"), timeout=5).status_code == 401, path
    assert httpx.get(url + "/", auth=(user, password), timeout=10).status_code == 200
