"""Structured logs: the request id comes back to the client, one reply is followed from the HTTP
request into the worker's task by it, and both formats render what they should (and no frame's
locals)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

from flask.testing import FlaskClient

from app.config import PROJECT_ROOT
from testkit.processes import WorkerProcess


def test_the_request_id_is_the_clients_or_a_new_one(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-123.abc"})
    assert given.headers["X-Request-ID"] == "trace-123.abc"
    fresh = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
    assert client.get("/healthz").headers["X-Request-ID"] != fresh.headers["X-Request-ID"]
    for unfit in ("x" * 129, "a b", "id\u00e9", "<script>"):
        answer = client.get("/healthz", headers={"X-Request-ID": unfit})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), unfit
    missing = client.get("/api/no-such-route", headers={"X-Request-ID": "on-errors-too"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "on-errors-too"


def wait_final(client: FlaskClient, headers: dict[str, str], message_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        message = client.get(f"/api/messages/{message_id}", headers=headers).json
        assert message is not None
        if message["status"] not in ("queued", "generating"):
            return dict(message)
        time.sleep(0.2)
    raise AssertionError(f"message {message_id} did not finish")


def test_one_request_id_follows_a_reply_into_the_worker(
    client: FlaskClient,
    auth_headers: dict[str, str],
    chat_id: int,
    celery_worker: WorkerProcess,
) -> None:
    request_id = f"follow-{uuid.uuid4().hex[:12]}"
    text = f"Say the word {uuid.uuid4().hex[:8]}."
    sent = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": text, "max_tokens": 4},
        headers={**auth_headers, "X-Request-ID": request_id},
    )
    assert sent.status_code == 202 and sent.headers["X-Request-ID"] == request_id
    message_id = sent.json["assistant_message_id"]  # type: ignore[index]
    assert wait_final(client, auth_headers, message_id)["status"] == "done"
    me = client.get("/api/auth/me", headers=auth_headers).json
    assert me is not None
    deadline = time.monotonic() + 10  # the task's last line follows its final write
    lines: list[str] = []
    while time.monotonic() < deadline:
        log = celery_worker.log_path.read_text()
        lines = [line for line in log.splitlines() if f"request_id={request_id}" in line]
        if any("task finished" in line for line in lines):
            break
        time.sleep(0.2)
    assert lines, "no worker line carries the request id"
    for line in lines:  # every line of the task names the reply, the user and the task
        assert f"message_id={message_id}" in line, line
        assert f"user_id={me['id']}" in line, line
        assert re.search(r"task_id=[0-9a-f-]{36}", line), line
    assert any("task started" in line for line in lines)
    assert any("task finished" in line for line in lines)
    assert text not in celery_worker.log_path.read_text()  # never a message's content


def render(log_format: str, code: str) -> str:
    """What a process configured with ``log_format`` writes to stderr when it runs ``code``."""
    program = (
        "import logging\n"
        "from app.logs import bind, configure_logging\n"
        f"configure_logging({log_format!r}, service='probe')\n"
        f"{code}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_json_lines_carry_the_bound_context() -> None:
    out = render(
        "json",
        "bind(request_id='r-1', message_id=7)\n"
        "logging.getLogger('app.x').info('reply %s of %d', 'done', 3)",
    )
    line = json.loads(out.strip().splitlines()[-1])
    assert line["event"] == "reply done of 3"
    assert line["request_id"] == "r-1" and line["message_id"] == 7
    assert line["level"] == "info" and line["logger"] == "app.x" and line["service"] == "probe"
    assert re.match(r"\d{4}-\d\d-\d\dT", line["timestamp"])


def test_tracebacks_never_print_the_frames_locals() -> None:
    code = (
        "def fail(secret_text):\n"
        "    raise ValueError('broken')\n"
        "try:\n"
        "    fail('the-users-message-text')\n"
        "except ValueError:\n"
        "    logging.getLogger('app.x').exception('failed')\n"
    )
    for log_format in ("console", "json"):
        out = render(log_format, code)
        assert "ValueError: broken" in out, out
        assert "the-users-message-text" not in out, (log_format, out)


def test_console_lines_are_readable_key_values() -> None:
    out = render("console", "bind(user_id=5)\nlogging.getLogger('app.y').warning('careful')")
    line = out.strip().splitlines()[-1]
    assert "careful" in line and "user_id=5" in line and "[warning" in line
    assert not line.startswith("{")
