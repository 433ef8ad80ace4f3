"""A worker with WORKER_METRICS_PORT serves its own figures (workers in their own containers)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import Settings
from testkit.processes import WorkerProcess, free_port
from tests.conftest import isolated_settings, register_and_login

TAKEN = "cannot serve worker metrics on port"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def test_worker_serves_its_metrics(settings: Settings, tmp_path: Path) -> None:
    isolated, worker = worker_with_metrics(settings, tmp_path)
    port = isolated.worker_metrics_port
    app = create_app(isolated)
    client = app.test_client()
    headers = register_and_login(client)
    try:
        chat = client.post("/api/sessions", json={}, headers=headers).json
        reply = client.post(
            f"/api/sessions/{chat['id']}/messages",
            json={"content": "Hi", "max_tokens": 3},
            headers=headers,
        ).json
        deadline = time.monotonic() + 60
        while (
            client.get(f"/api/messages/{reply['assistant_message_id']}", headers=headers).json[
                "status"
            ]
            != "done"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # the worker counts a generation just after it stores the reply: wait for the count
        done = ("queuechat_generations_total", (("kind", "chat"), ("status", "done")))
        samples = scrape(port)
        # every decode step is timed (the prompt's, then one per further token): the worker
        # drains the step times into its histogram once a second
        while done not in samples or step_count(samples) < generated(samples):
            assert time.monotonic() < deadline, sorted(samples)
            time.sleep(0.1)
            samples = scrape(port)
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    assert samples[done] == 1
    assert generated(samples) >= 1
    # what the steps were: the prompt (the chat template around "Hi": more than 4 tokens) in
    # one step of its own class, then one 1-token step per further token; and they took time
    by_size = step_counts(samples)
    assert sum(count for size, count in by_size.items() if size not in ("1", "2-4")) >= 1, by_size
    assert by_size.get("1", 0) >= generated(samples) - 1, by_size
    assert samples.get(("queuechat_engine_step_seconds_sum", (("tokens", "1"),)), 0) > 0


def generated(samples: Samples) -> float:
    return samples.get(("queuechat_tokens_generated_total", (("kind", "chat"),)), 0.0)


def step_counts(samples: Samples) -> dict[str, float]:
    """Decode steps by their token-count class."""
    steps = "queuechat_engine_step_seconds_count"
    return {
        dict(labels)["tokens"]: value for (name, labels), value in samples.items() if name == steps
    }


def step_count(samples: Samples) -> float:
    return sum(step_counts(samples).values())


def scrape(port: int) -> Samples:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_worker_whose_metrics_port_is_taken_stops_and_says_why(
    settings: Settings, tmp_path: Path
) -> None:
    """Prometheus would otherwise scrape whatever else holds the port, and the worker none."""
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        held.listen()
        port = held.getsockname()[1]
        isolated = isolated_settings(
            settings, 6, worker_metrics_port=port, prometheus_multiproc_dir=tmp_path / "metrics"
        )
        try:
            worker = WorkerProcess(isolated, queues="inference")
        except RuntimeError as exc:
            assert f"{TAKEN} {port}" in str(exc)
        else:
            worker.stop()
            raise AssertionError("the worker started without its metrics port")


def worker_with_metrics(settings: Settings, tmp_path: Path) -> tuple[Settings, WorkerProcess]:
    """A worker serving /metrics on a free port.

    free_port() draws below the kernel's ephemeral range, so no outgoing connection takes the
    port; should another test's server bind it first, the worker stops and says so (the test
    above), and another port is tried.
    """
    for attempt in range(3):
        isolated = isolated_settings(
            settings,
            6,
            worker_metrics_port=free_port(),
            prometheus_multiproc_dir=tmp_path / f"metrics-{attempt}",
        )
        try:
            return isolated, WorkerProcess(isolated, queues="inference")
        except RuntimeError as exc:
            if TAKEN not in str(exc):
                raise
    raise AssertionError("three free ports were taken before the worker bound them")
