"""The fault rows of the adversarial suite, one run at a time, against a running FaultStack.

Each run breaks a real part of the stack (a worker killed, a chat deleted under its job; Redis,
PostgreSQL and web in testkit/outages.py) and judges what a user ends up with: the problems
list names every promise that did not hold. tests/adversarial/ asserts on the runs;
bench/adversarial.py runs each row at full count and prints the table.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.models import Message
from testkit.faultstack import PLACES, FaultStack
from testkit.watch import ReplyWatcher

PROMPT = "Write a long story about a dragon who learns to bake bread."
KILL_REPLY_TOKENS = 32  # short: the kill lands inside it and the redone reply is quick
WORKER_DEADLINE_S = 30  # a reply whose worker died is final within this (issue #13)
FINAL_STATUSES = {"done", "error", "cancelled"}
# Celery's own format ("ERROR/MainProcess"), and app/logs.py's console and JSON lines
CRASH_MARKS = (
    "Traceback", "ERROR/", "CRITICAL/", "unhandled error", "[error ", "[critical",
    '"level": "error"', '"level": "critical"',
)  # fmt: skip


@dataclass
class Run:
    outcome: str  # what the user ended with: "done", "error", "cancelled", "dropped", ...
    recovery_s: float | None  # from the fault until the user had it
    problems: list[str] = field(default_factory=list)  # the promises that broke: none, or a bug
    notes: list[str] = field(default_factory=list)  # what else happened on the way


@dataclass
class Row:
    name: str
    runs: list[Run] = field(default_factory=list)

    def outcomes(self) -> str:
        counts = Counter(run.outcome for run in self.runs)
        return ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))

    def worst_recovery_s(self) -> float | None:
        times = [run.recovery_s for run in self.runs if run.recovery_s is not None]
        return max(times) if times else None

    def problems(self) -> list[str]:
        return [problem for run in self.runs for problem in run.problems]


def watch(stack: FaultStack, reply_id: int, *, resume: bool = False) -> ReplyWatcher:
    return ReplyWatcher(stack.web.ws_url, stack.token, reply_id, resume=resume)


def judge(
    stack: FaultStack, reply_id: int, watcher: ReplyWatcher, *, since: float, deadline_s: float
) -> Run:
    """The stored reply is final, the client got exactly one final event, in time, and the
    client's text is the stored text; the stream holds at most one final event."""
    watcher.join()
    stored = stack.message(reply_id)
    problems = []
    final = watcher.final
    finals = [t for t in watcher.types if t in FINAL_STATUSES | {"message"}]
    if final is None:
        problems.append(f"no final event reached the client: {watcher.types[-3:]} {watcher.drops}")
        recovery = None
    else:
        recovery = final[0] - since
        if recovery > deadline_s:
            problems.append(f"final after {recovery:.1f} s (bound {deadline_s} s)")
        if len(finals) != 1:
            problems.append(f"the client got {len(finals)} final events")
    if stored["status"] not in FINAL_STATUSES:
        problems.append(f"stored as {stored['status']}")
    if final is not None:
        event = final[1]
        shown = event["message"] if event["type"] == "message" else None
        status = shown["status"] if shown else event["type"]
        text = shown["content"] if shown else watcher.text
        if status != stored["status"]:
            problems.append(f"the client was told {status}, the database says {stored['status']}")
        if text != stored["content"]:
            problems.append(f"client text {text!r} != stored {stored['content']!r}")
            problems.append(f"the client's events: {event_trail(watcher)}")
    stream_finals = sum(1 for event in stack.stream(reply_id) if event.is_final)
    if stream_finals > 1:
        problems.append(f"{stream_finals} final events in the stream")
    return Run(stored["status"], recovery, problems)


def event_trail(watcher: ReplyWatcher) -> str:
    """What the client got, compactly (type, id, text), for a failure's message."""
    return (
        " ".join(
            f"{event['type']}@{event.get('id', '-')}{event.get('text', '')!r}"
            for _, event in watcher.events
        )
        + f" drops={watcher.drops}"
    )


def reference_reply(stack: FaultStack) -> str:
    """The reply to PROMPT at temperature 0 with nothing broken, for killed runs to match."""
    reply_id = stack.send(stack.new_chat(), PROMPT, temperature=0, max_tokens=KILL_REPLY_TOKENS)
    watch(stack, reply_id).join()
    content: str = stack.message(reply_id)["content"]
    return content


def worker_kill(stack: FaultStack, rng: random.Random, reference: str) -> Run:
    """kill -9 of the inference worker at a random token of a reply; a new worker starts as the
    supervisor starts one. Default lease and visibility timeout: the lease lapses and a reaper
    sends the job again. The reply ends done once, within 30 s, with the uninterrupted text."""
    reply_id = stack.send(stack.new_chat(), PROMPT, temperature=0, max_tokens=KILL_REPLY_TOKENS)
    watcher = watch(stack, reply_id)
    at_token = rng.randint(1, KILL_REPLY_TOKENS // 2)
    if not watcher.wait_for_tokens(at_token):
        return Run("not killed", None, [f"the reply ended before token {at_token}"])
    killed = time.monotonic()
    stack.crash_worker()
    stack.start_worker()
    run = judge(stack, reply_id, watcher, since=killed, deadline_s=WORKER_DEADLINE_S)
    if run.outcome == "done" and stack.message(reply_id)["content"] != reference:
        run.problems.append("the redone reply differs from the uninterrupted one")
    with stack.db.session() as session:
        attempts = session.get_one(Message, reply_id).attempts
    if attempts != 2:
        run.problems.append(f"{attempts} attempts (one kill: 2)")
    if watcher.types.count("reset") != 1:
        run.problems.append(f"{watcher.types.count('reset')} resets (one kill: 1)")
    return run


def deleted_chat(stack: FaultStack, *, while_generating: bool) -> Run:
    """A chat deleted while its reply waits in the queue, or while it is generated: the job is
    dropped without a crash in any log, no row and no Redis key of it is left, and the worker
    goes on to the next job."""
    marks = log_sizes(stack)
    problems = []
    if while_generating:
        chat_id = stack.new_chat()
        reply_id = stack.send(chat_id, PROMPT, temperature=0, max_tokens=256)
        watch(stack, reply_id).wait_for_tokens(3)
    else:  # replies in every place of the worker keep it busy
        ahead = [
            stack.send(stack.new_chat(), PROMPT, temperature=0, max_tokens=24)
            for _ in range(PLACES)
        ]
        for reply in ahead:
            watch(stack, reply).wait_for_tokens(1)
        chat_id = stack.new_chat()
        reply_id = stack.send(chat_id, PROMPT, temperature=0, max_tokens=32)
    status = stack.message(reply_id)["status"]
    expected = "generating" if while_generating else "queued"
    if status != expected:
        problems.append(f"the reply was {status} at the delete, not {expected}")
    deleted = time.monotonic()
    response = stack.request("DELETE", f"/api/sessions/{chat_id}")
    if response.status_code != 204:
        problems.append(f"DELETE answered {response.status_code}: {response.text}")
    after = stack.send(stack.new_chat(), "Say hello.", temperature=0, max_tokens=8)
    next_run = judge(stack, after, watch(stack, after), since=deleted, deadline_s=30)
    problems += [f"the next reply: {problem}" for problem in next_run.problems]
    if stack.request("GET", f"/api/messages/{reply_id}").status_code != 404:
        problems.append("the deleted reply is still readable")
    with stack.db.session() as session:
        if session.get(Message, reply_id) is not None:
            problems.append("the deleted reply's row is left")
    streams = stack.streams()
    if streams.exists(reply_id) or streams.cancel_requested(reply_id):
        problems.append("the deleted reply's stream or cancel flag is left in Redis")
    problems += crashes_logged(stack, marks)
    outcome = "dropped" if next_run.outcome == "done" else f"next reply {next_run.outcome}"
    return Run(outcome, next_run.recovery_s, problems)


def ingest_kill(stack: FaultStack, nonce: str) -> Run:
    """kill -9 of the ingest worker while it embeds a document; a new one starts. The document
    ends ready with every chunk (or error with a reason), never stuck."""
    text = "\n\n".join(
        f"Part {nonce}-{i}: " + "the quick brown fox jumps. " * 30 for i in range(60)
    )
    upload = stack.web.http.post(
        "/api/documents",
        files={"files": (f"{nonce}.txt", text.encode(), "text/plain")},
        headers=stack.headers,
    )
    if upload.status_code != 202:
        return Run("refused", None, [f"upload answered {upload.status_code}: {upload.text}"])
    document_id = int(upload.json()["items"][0]["id"])
    midway = document_until(stack, document_id, {"embedding", "ready", "error"}, 120)
    if midway["status"] != "embedding":
        return Run("not killed", None, [f"the document was {midway['status']} before the kill"])
    killed = time.monotonic()
    stack.crash_ingest()
    stack.start_ingest()
    final = document_until(stack, document_id, {"ready", "error"}, 120)
    recovery = time.monotonic() - killed
    problems = []
    if final["status"] not in {"ready", "error"}:
        problems.append(f"the document is still {final['status']}")
    elif final["status"] == "error" and not final.get("error"):
        problems.append("error without a reason")
    elif final["status"] == "ready" and final["chunks_done"] != final["chunk_count"]:
        problems.append(f"{final['chunks_done']} of {final['chunk_count']} chunks stored")
    return Run(final["status"], recovery, problems)


def document_until(
    stack: FaultStack, document_id: int, statuses: set[str], timeout_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = stack.request("GET", f"/api/documents/{document_id}").json()
        if body["status"] in statuses or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def log_sizes(stack: FaultStack) -> dict[str, int]:
    return {str(path): path.stat().st_size for path in stack.log_paths()}


def crashes_logged(stack: FaultStack, since: dict[str, int]) -> list[str]:
    """Crash marks (tracebacks, ERROR lines) that web or worker logged after ``since``."""
    found = []
    for path in stack.log_paths():
        with path.open("rb") as log:
            log.seek(since.get(str(path), 0))
            text = log.read().decode(errors="replace")
        found += [f"{path.name}: {line[:200]}" for line in text.splitlines() if is_crash(line)]
    return found


def is_crash(line: str) -> bool:
    return any(mark in line for mark in CRASH_MARKS)


def as_table(rows: list[Row]) -> str:
    """The README's table: row, runs, outcomes, worst recovery, broken promises."""
    lines = [
        "| row | runs | outcomes | worst recovery | problems |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        worst = row.worst_recovery_s()
        shown = "-" if worst is None else f"{worst:.1f} s"
        lines.append(
            f"| {row.name} | {len(row.runs)} | {row.outcomes()} | {shown} | {len(row.problems())} |"
        )
    return "\n".join(lines)


def describe(rows: list[Row]) -> list[str]:
    return [f"{row.name}: {problem}" for row in rows for problem in row.problems()]
