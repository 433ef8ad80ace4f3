"""The batch CLI against the running server: submit, progress until done, results file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskClient

from app.config import PROJECT_ROOT
from testkit.processes import LiveServer, WorkerProcess


def test_cli_submits_waits_and_writes_results(
    client: FlaskClient,
    auth_headers: dict[str, str],
    live_server: LiveServer,
    celery_worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    key = client.post("/api/keys", json={"name": "cli"}, headers=auth_headers).json["key"]
    requests = tmp_path / "requests.jsonl"
    rows = [{"custom_id": f"q{i}", "prompt": f"Say the number {i}.", "max_tokens": 4}
            for i in range(3)]  # fmt: skip
    requests.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.batch", "submit", str(requests), "--url", live_server.url,
         "--api-key", key, "--poll", "0.2"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "submitted batch" in done.stderr and "3 done, 0 failed" in done.stderr
    assert "3/3" in done.stderr  # the progress bar reached the end
    results = [
        json.loads(line) for line in (tmp_path / "requests.results.jsonl").read_text().splitlines()
    ]
    assert [r["custom_id"] for r in results] == ["q0", "q1", "q2"]
    assert all(r["status"] == "done" and r["output"] for r in results)
    assert all(r["usage"]["completion_tokens"] <= 4 for r in results)


def test_cli_shows_validation_errors_by_line(
    client: FlaskClient, auth_headers: dict[str, str], live_server: LiveServer, tmp_path: Path
) -> None:
    token = auth_headers["Authorization"].split()[1]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a", "prompt": "hi"}\n{"custom_id": "b"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.batch", "submit", str(bad), "--url", live_server.url,
         "--token", token],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "HTTP 422" in done.stderr and "line 2:" in done.stderr
    assert not (tmp_path / "bad.results.jsonl").exists()
