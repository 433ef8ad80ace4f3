"""Fault rows that take a service away under a running reply: Redis restarted, PostgreSQL's
connections dropped, the web process restarted with sockets open (see testkit/faults.py)."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import psycopg2

from testkit.faults import PROMPT, Run, judge, watch
from testkit.faultstack import FaultStack
from testkit.processes import POSTGRES_ADMIN_DSN
from workers.inference.presence import held_text
from workers.unacked import ORPHAN_LEASES, UNACKED, UNACKED_INDEX, live_held, message_job

ACKED_S = 5  # a job run through a Redis restart is acknowledged within this of its end
REAPER_PASS_S = 5  # a reaper pass's own time, on a loaded machine
CHAT_AGAIN_S = 10  # after Redis is back, a new message is answered within this (issue #13)
OUTAGE_REPLY_TOKENS = 48
REDIS_DOWN_S = 1.0  # a restart as deployed takes at least this


def redis_restart(stack: FaultStack) -> Run:
    """kill -9 of Redis mid-reply and a start on its port (its AOF kept, as deployed). The reply
    ends final, its client is told so, and a new message is answered within 10 s, web and
    worker untouched."""
    reply_id = stack.send(stack.new_chat(), PROMPT, temperature=0, max_tokens=OUTAGE_REPLY_TOKENS)
    watcher = watch(stack, reply_id)
    watcher.wait_for_tokens(3)
    restarts = stack.restarts
    through = live_held(stack.redis)  # the jobs the worker runs at the kill
    stack.redis_server.kill()
    time.sleep(REDIS_DOWN_S)  # the worker's consumer finds Redis gone before it is back
    stack.redis_server.start()
    back, back_at = time.monotonic(), time.time()
    answered, problems = chat_works_again(stack, since=back)
    run = judge(stack, reply_id, watcher, since=back, deadline_s=30)
    run.problems += problems
    run.recovery_s = answered
    if stack.restarts > restarts:  # kombu 5.7's failed clean-up: workers/consumer.py
        run.problems.append("the inference worker exited and its supervisor started it again")
    run.problems += left_unacknowledged(stack, through, back_at)
    return run


def left_unacknowledged(stack: FaultStack, through: set[str], back_at: float) -> list[str]:
    """Every job the worker ran through the outage (running at the kill, or fetched after the
    restart) is acknowledged within ACKED_S of its end: its own acknowledgement, on the channel
    it came by (workers/consumer.py). Any other message of kombu's ``unacked`` records (one
    whose acknowledgement the kill took before Redis wrote it to its AOF, one of a worker
    killed by an earlier row) is the reaper's, which drops a finished job's message once it
    is two leases old, in a pass every half lease (workers/unacked.py): within two and a half
    leases and REAPER_PASS_S of its fetch. A message left in the records would be delivered
    again later. Each one left is named, with its age and whose it was."""
    lease = stack.settings.lease_ttl_s
    deadline = time.monotonic() + ACKED_S
    reaped_s = ORPHAN_LEASES * lease + lease / 2 + REAPER_PASS_S  # a reaper pass each half lease
    while True:
        left = unacknowledged(stack)
        ours = {tag: (entry, fetched) for tag, (entry, fetched) in left.items()
                if entry in through or fetched >= back_at}  # fmt: skip
        reaper_late = max((fetched + reaped_s for _, fetched in left.values()), default=0.0)
        if not left or (time.monotonic() > deadline and (ours or time.time() > reaper_late)):
            break
        time.sleep(0.1)
    now = time.time()
    return [
        f"{entry} (fetched {now - fetched:.1f} s ago, "
        f"{'run through the outage' if tag in ours else 'not reaped'}) left unacknowledged"
        for tag, (entry, fetched) in left.items()
    ]


def unacknowledged(stack: FaultStack) -> dict[bytes, tuple[str, float]]:
    """kombu's unacked records: delivery tag -> (held entry of its job, when it was fetched)."""
    fetched = dict(stack.redis.zrange(UNACKED_INDEX, 0, -1, withscores=True))
    found: dict[bytes, tuple[str, float]] = {}
    for tag, raw in stack.redis.hgetall(UNACKED).items():
        job = message_job(raw)
        found[tag] = (held_text(*job) if job else "a message", float(fetched.get(tag, 0.0)))
    return found


def chat_works_again(stack: FaultStack, *, since: float) -> tuple[float | None, list[str]]:
    """Sends a message until one is taken (a 503 while a service is away is fine, never a
    500); its reply must be done within CHAT_AGAIN_S of ``since``. Seconds taken, problems."""
    problems: list[str] = []
    reply_id = None
    while reply_id is None and time.monotonic() - since < CHAT_AGAIN_S:
        chat = stack.request("POST", "/api/sessions", json={"title": "again"})
        response = chat
        if chat.status_code == 201:
            response = stack.request(
                "POST",
                f"/api/sessions/{chat.json()['id']}/messages",
                json={"content": "Say hello.", "max_tokens": 8, "temperature": 0},
            )
            if response.status_code == 202:
                reply_id = int(response.json()["assistant_message_id"])
        if reply_id is None:
            problems += refused_badly(response)
            time.sleep(0.2)
    if reply_id is None:
        return None, [*problems, f"no message was taken within {CHAT_AGAIN_S} s"]
    run = judge(stack, reply_id, watch(stack, reply_id), since=since, deadline_s=CHAT_AGAIN_S)
    problems += [f"the new message: {problem}" for problem in run.problems]
    if run.outcome != "done":
        problems.append(f"the new message ended {run.outcome}")
    return run.recovery_s, problems


def refused_badly(response: httpx.Response) -> list[str]:
    """A refusal must be 503 with the JSON error envelope."""
    body: Any = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else None
    )
    if response.status_code == 503 and isinstance(body, dict) and "error" in body:
        return []
    return [f"{response.request.method} {response.request.url.path}: {response.status_code}"]


def postgres_drop(stack: FaultStack) -> Run:
    """pg_terminate_backend of every connection to the database while a request waits on a row
    lock and a reply is generated: that request gets 503 with the error envelope, the next
    requests succeed, the reply ends done, and a new message is answered."""
    for _ in range(3):  # pooled connections in the web process, to be dropped
        stack.request("GET", "/api/sessions")
    locked_chat = stack.new_chat()
    reply_id = stack.send(stack.new_chat(), PROMPT, temperature=0, max_tokens=OUTAGE_REPLY_TOKENS)
    watcher = watch(stack, reply_id)
    watcher.wait_for_tokens(1)
    database = stack.settings.sqlalchemy_url.rsplit("/", 1)[1]
    answers: dict[str, httpx.Response] = {}
    locker = psycopg2.connect(f"{POSTGRES_ADMIN_DSN} dbname={database}")
    try:
        with locker.cursor() as cursor:
            cursor.execute("SELECT id FROM chat_sessions WHERE id = %s FOR UPDATE", (locked_chat,))
            rename = threading.Thread(
                target=lambda: answers.update(
                    rename=stack.request(
                        "PATCH", f"/api/sessions/{locked_chat}", json={"title": "renamed"}
                    )
                )
            )
            rename.start()
            wait_for_lock_waiter(cursor, database)
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            dropped_at = time.monotonic()
        locker.rollback()
    finally:
        locker.close()
    rename.join(30)
    in_flight = answers.get("rename")
    problems = ["no answer to the request in flight"] if in_flight is None else []
    if in_flight is not None and in_flight.status_code != 503:
        problems.append(f"the request in flight got {in_flight.status_code}, not 503")
    problems += [] if in_flight is None else refused_badly(in_flight)
    for _ in range(3):
        response = stack.request("GET", "/api/sessions")
        if response.status_code != 200:
            problems.append(f"after the drop: GET /api/sessions {response.status_code}")
    run = judge(stack, reply_id, watcher, since=dropped_at, deadline_s=30)
    answered, again = chat_works_again(stack, since=time.monotonic())
    run.problems += problems + again
    run.outcome = f"503 then {run.outcome}" if not problems else run.outcome
    run.recovery_s = answered
    return run


def wait_for_lock_waiter(cursor: Any, database: str) -> None:
    """Until a backend of the database waits on a lock (the request is in flight)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        )
        if cursor.fetchone()[0]:
            return
        time.sleep(0.05)
    raise TimeoutError("the request never waited on the row lock")


def web_restart(stack: FaultStack, sig: signal.Signals, clients: int = 3) -> Run:
    """The web process stopped (SIGTERM as a deploy, SIGKILL as a crash) and started again on
    its port while sockets follow a reply: each client reconnects with its last event id and
    has every event of the stream exactly once, in order."""
    reply_id = stack.send(
        stack.new_chat(), PROMPT, temperature=0, max_tokens=OUTAGE_REPLY_TOKENS * 3
    )
    watchers = [watch(stack, reply_id, resume=True) for _ in range(clients)]
    for watcher in watchers:
        watcher.wait_for_tokens(3)
    stopped = time.monotonic()
    stack.stop_web(sig)
    stack.start_web()
    runs = [judge(stack, reply_id, watcher, since=stopped, deadline_s=30) for watcher in watchers]
    stream = [event.id for event in stack.stream(reply_id)]
    problems = [problem for run in runs for problem in run.problems]
    for number, watcher in enumerate(watchers):
        missing = len(set(stream) - set(watcher.ids))
        repeated = len(watcher.ids) - len(set(watcher.ids))
        if missing or repeated or watcher.ids != stream:
            problems.append(f"client {number}: {missing} gaps, {repeated} repeats")
    times = [run.recovery_s for run in runs if run.recovery_s is not None]
    resumed = sum(1 for watcher in watchers if watcher.connections > 1)
    notes = [] if resumed else ["the reply ended before the sockets closed (graceful stop)"]
    return Run(runs[0].outcome, max(times) if times else None, problems, notes)
