"""The model's compute runs at COMPUTE_NICE, below the threads that answer requests
(workers/cpu_priority.py). In a real inference worker and a real ingest worker, started as a user
starts them, the threads that did a reply's or a document's compute are the niced ones, and the
threads that take jobs, claim them and write their results are not."""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from app.config import Settings
from testkit.processes import WorkerProcess, wait_until
from tests.rag.helpers import upload, wait_for_status

TICK_S = 0.01  # /proc reports CPU time in clock ticks


def threads(pid: int) -> dict[int, tuple[float, int]]:
    """Each thread of ``pid``: its CPU seconds so far and its nice value."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # fields 14, 15 (utime, stime) and 19 (nice) of proc(5), counted from field 3 here
        found[int(task.name)] = ((int(stat[11]) + int(stat[12])) * TICK_S, int(stat[16]))
    return found


def settled(pid: int) -> dict[int, tuple[float, int]]:
    """``pid``'s threads once it is idle: a worker just started loads its models for seconds
    (the embedder beside an inference worker's first jobs), which would count as the job's."""
    last = threads(pid)

    def idle() -> bool:
        nonlocal last
        time.sleep(0.5)
        now = threads(pid)
        spent = sum(cpu - last.get(tid, (0.0, 0))[0] for tid, (cpu, _) in now.items())
        last = now
        return spent < 0.05

    wait_until(idle, timeout=120, what=f"worker {pid} to settle")
    return last


def busiest(before: dict[int, tuple[float, int]], pid: int, count: int) -> list[tuple[float, int]]:
    """The ``count`` threads that used the most CPU since ``before``: (seconds, nice) each."""
    after = threads(pid)
    grown = [(cpu - before.get(tid, (0.0, 0))[0], nice) for tid, (cpu, nice) in after.items()]
    return sorted(grown, reverse=True)[:count]


def test_a_replys_compute_runs_niced_and_its_job_thread_does_not(
    settings: Settings,
    celery_worker: WorkerProcess,
    client: FlaskClient,
    auth_headers: dict[str, str],
    chat_id: int,
) -> None:
    assert settings.compute_nice == 5  # the default: what a user runs
    pid = celery_worker.proc.pid
    before = settled(pid)
    reply = client.post(
        f"/api/sessions/{chat_id}/messages",
        json={"content": "Write a long story about a lighthouse keeper.", "max_tokens": 96},
        headers=auth_headers,
    ).json
    assert reply is not None

    def done() -> bool:
        url = f"/api/messages/{reply['assistant_message_id']}"
        body = client.get(url, headers=auth_headers).json
        return body is not None and body["status"] == "done"

    wait_until(done, timeout=60, what="the reply")
    # the engine's thread and its OpenMP team (one thread per model thread) did the compute
    compute = busiest(before, pid, settings.n_threads)
    assert all(nice == settings.compute_nice for _, nice in compute), compute
    assert all(seconds >= 0.1 for seconds, _ in compute), compute  # a reply's worth, each
    everyone = threads(pid)
    assert everyone[pid][1] == 0  # the main thread: Celery's consumer takes the jobs
    # the job threads (one per job in flight, two per place) claim, stream and store at 0
    assert sum(1 for _, nice in everyone.values() if nice == 0) > settings.n_threads


def test_a_documents_embedding_runs_niced(
    settings: Settings,
    ingest_worker: WorkerProcess,
    client: FlaskClient,
    admin_headers: dict[str, str],
) -> None:
    pid = ingest_worker.proc.pid
    before = settled(pid)
    text = " ".join(f"Sentence number {i} talks about lighthouses and ships." for i in range(400))
    response = upload(client, admin_headers, ("lighthouses.txt", text.encode()))
    assert response.status_code == 202, response.json
    document = response.json["items"][0]
    assert (
        wait_for_status(client, admin_headers, document["id"], {"ready", "failed"})["status"]
        == "ready"
    )
    embedding = busiest(before, pid, 1)[0]
    assert embedding[0] >= 0.1, embedding  # the document's embedding ran here
    assert embedding[1] == settings.compute_nice, embedding
