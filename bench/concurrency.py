"""Concurrent chats through the whole stack against llama-server with as many slots.

Run: .venv/bin/python -m bench.concurrency [--levels 1,2,4,8,16] [--tokens 200]
For each level N, N chats (one user each, so per-user caps do not cut the run) are sent at
once: QueueChat POST -> first token over the WebSocket, with one inference worker holding N
places (PARALLEL_SEQUENCES=N); llama-server (bench/llama_server.py, built from the llama.cpp
vendored in the pinned llama-cpp-python, same CMake flags) with -np N, streaming
/v1/chat/completions. Same model, threads and prompts (each round is a new turn of the same
conversations on both: system prompt, history, question; new conversations before they outgrow
the context window), temperature 0. Rounds alternate
between the two so drift on the machine hits both alike. The last column is the share of the
machine's CPU time each side spent outside its model's threads (bench/cpu_share.py): on a
machine with no more cores than model threads, that time is taken from the model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import httpx

from app.services.prompting import DEFAULT_SYSTEM_PROMPT
from bench.cpu_share import outside_by_process, outside_model, snapshot
from bench.harness import Stack, running_stack, warm_up
from bench.llama_server import llama_server
from bench.stream import percentile
from testkit.processes import WorkerProcess
from testkit.wsclient import ChatSocket

QUESTION = "Write a very long and detailed story about a lighthouse keeper, number {i}."


@dataclass
class Round:
    ttfts_ms: list[float]
    tokens: int
    wall_s: float
    outside_s: float = 0.0  # CPU time of everything but the model's threads (cpu_share.py)
    by_process: dict[str, float] = field(default_factory=dict)  # outside_s by process

    @property
    def rate(self) -> float:
        return self.tokens / self.wall_s

    @property
    def outside_share(self) -> float:
        """The share of the machine's CPU time that went outside the model."""
        return self.outside_s / (self.wall_s * (os.cpu_count() or 1))


# a chat's job: (seconds to its first token, perf_counter at its stream's end, tokens)
JobResult = tuple[float, float, int]
Job = Callable[[int, "Start", threading.Barrier], JobResult]


class Start:
    """The jobs' start: each waits once its clients are ready; the round's CPU is read between
    the last one ready and the start (the QueueChat clients connect and sign in before)."""

    def __init__(self, count: int) -> None:
        self.ready = threading.Barrier(count + 1)
        self.go = threading.Barrier(count + 1)

    def wait(self) -> None:
        self.ready.wait()
        self.go.wait()

    def abort(self) -> None:
        self.ready.abort()
        self.go.abort()


def in_parallel(count: int, job: Job, threads_of_model: int) -> Round:
    """Runs ``job`` for each of ``count`` chats at once. A round lasts from the common start to
    the last stream's end, and its CPU is read over the same span: what a job does before it
    (connect) or after its stream (QueueChat's client reads the stored reply, closes its
    socket) is outside both. A job that fails voids the round: its error is raised here."""
    start = Start(count)
    streamed = threading.Barrier(count + 1)
    results: list[JobResult] = [(0.0, 0.0, 0)] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = job(i, start, streamed)
        except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
            errors.append(exc)
            start.abort()
            streamed.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    try:
        start.ready.wait()
        before = snapshot()
        start.go.wait()
        started = time.perf_counter()
        streamed.wait()
        after = snapshot()
        outside = outside_model(before, after, threads_of_model)
        by_process = outside_by_process(before, after, threads_of_model)
    except threading.BrokenBarrierError:
        outside = started = 0.0
        by_process = {}
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    wall = max(r[1] for r in results) - started
    ttfts = [r[0] * 1000 for r in results]
    return Round(ttfts, sum(r[2] for r in results), wall, outside, by_process)


def queuechat_round(stack: Stack, users: list[tuple[str, int]], tokens: int) -> Round:
    def job(i: int, start: Start, streamed: threading.Barrier) -> JobResult:
        token, chat_id = users[i]
        http = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"})
        sock = ChatSocket(stack.ws_url, token)
        body = {"content": QUESTION.format(i=i), "max_tokens": tokens, "temperature": 0.0}
        start.wait()
        started = time.perf_counter()
        reply = http.post(f"/api/sessions/{chat_id}/messages", json=body).json()
        sock.subscribe(reply["assistant_message_id"])
        first = None
        while True:
            event = sock.recv()
            if event["type"] == "token" and first is None:
                first = time.perf_counter() - started
            if event["type"] in {"done", "error", "cancelled"}:
                break
        ended = time.perf_counter()
        streamed.wait()
        sock.close()
        stored = http.get(f"/api/messages/{reply['assistant_message_id']}").json()
        http.close()
        return first or 0.0, ended, int(stored["completion_tokens"] or 0)

    return in_parallel(len(users), job, stack.settings.n_threads)


def llama_server_round(
    url: str, chats: list[list[dict[str, str]]], tokens: int, threads: int
) -> Round:
    """A turn in each of ``chats`` (the conversations so far, which it extends): llama-server
    is sent the same prompts as QueueChat's chats hold, history and all."""

    def job(i: int, start: Start, streamed: threading.Barrier) -> JobResult:
        asked = {"role": "user", "content": QUESTION.format(i=i)}
        body = {
            "messages": [*chats[i], asked],
            "max_tokens": tokens,
            "temperature": 0.0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        start.wait()
        started = time.perf_counter()
        first, used, pieces = None, 0, []
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as r:
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    used = chunk["usage"]["completion_tokens"]
                choices = chunk.get("choices") or [{}]
                piece = choices[0].get("delta", {}).get("content")
                if piece:
                    first = first or time.perf_counter() - started
                    pieces.append(piece)
        ended = time.perf_counter()
        streamed.wait()
        chats[i] += [asked, {"role": "assistant", "content": "".join(pieces)}]
        return first or 0.0, ended, used

    return in_parallel(len(chats), job, threads)


def users_with_chats(stack: Stack, count: int) -> list[tuple[str, int]]:
    users = []
    for _ in range(count):
        account = {"username": f"c{uuid.uuid4().hex[:8]}", "password": "bench password"}
        stack.http.post("/api/auth/register", json=account).raise_for_status()
        token = httpx.post(f"{stack.base_url}/api/auth/login", json=account).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        chat = httpx.post(f"{stack.base_url}/api/sessions", json={}, headers=headers).json()
        users.append((token, int(chat["id"])))
    return users


def new_conversations(
    stack: Stack, url: str, count: int, threads: int
) -> tuple[list[tuple[str, int]], list[list[dict[str, str]]]]:
    """``count`` new chats on both sides, each with a first short turn (not measured)."""
    users = users_with_chats(stack, count)
    queuechat_round(stack, users, 8)
    chats = [[{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}] for _ in range(count)]
    llama_server_round(url, chats, 8, threads)
    return users, chats


def summary(rounds: list[Round]) -> tuple[float, float, float, float, float]:
    ttfts = [t for r in rounds for t in r.ttfts_ms]
    rate = statistics.median(r.rate for r in rounds)
    outside = statistics.median(r.outside_share for r in rounds)
    return rate, percentile(ttfts, 0.5), percentile(ttfts, 0.95), max(ttfts), outside


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--by-process", action="store_true", help="where the CPU outside the model went"
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    rows: list[Row] = []
    with running_stack(n_threads=args.threads, inference=False) as stack:
        for n in levels:
            settings = stack.settings.model_copy(update={"parallel_sequences": n})
            worker = WorkerProcess(settings, queues="inference,batch")
            ours: list[Round] = []
            theirs: list[Round] = []
            try:
                # the warm-up on other chats: it adds a turn per round, and a long history
                # would slow the measured chats' decoding (attention over every turn)
                warm_up(partial(queuechat_round, stack, users_with_chats(stack, n), 8))
                with llama_server(
                    settings.model_path,
                    threads=args.threads,
                    parallel=n,
                    n_ctx_seq=settings.n_ctx,
                    n_batch=settings.n_batch,
                ) as url:
                    # each round is a turn of the same conversations, started again before
                    # they outgrow the window: past it QueueChat drops old turns (and evaluates
                    # the window again) where llama-server cuts the reply short
                    per_chat = max(1, (settings.n_ctx - args.tokens - 100) // (args.tokens + 40))
                    for done in range(args.rounds):
                        if done % per_chat == 0:
                            users, chats = new_conversations(stack, url, n, args.threads)
                        theirs.append(llama_server_round(url, chats, args.tokens, args.threads))
                        time.sleep(0.5)
                        ours.append(queuechat_round(stack, users, args.tokens))
                        time.sleep(0.5)
            finally:
                worker.stop()
            pairs = [mine.rate / peer.rate for mine, peer in zip(ours, theirs, strict=True)]
            rows.append((n, summary(ours), summary(theirs), pairs))
            print_rows(rows[-1:], header=len(rows) == 1)
            if args.by_process:
                print_by_process(n, ours, theirs)


Row = tuple[int, tuple[float, ...], tuple[float, ...], list[float]]


BOOTSTRAP_DRAWS = 10_000


def pair_interval(pairs: list[float], draws: int = BOOTSTRAP_DRAWS) -> tuple[float, float, float]:
    """The pairs' geometric mean and its 95% interval: a bootstrap of the rounds (seeded, so the
    same pairs print the same interval), i.e. where the ratio lies given this run's noise."""
    logs = [math.log(pair) for pair in pairs]
    draw = random.Random(0)
    means = sorted(statistics.fmean(draw.choices(logs, k=len(logs))) for _ in range(draws))
    low, high = means[int(0.025 * draws)], means[int(0.975 * draws) - 1]
    return math.exp(statistics.fmean(logs)), math.exp(low), math.exp(high)


def print_rows(rows: list[Row], header: bool) -> None:
    """The ratio of the median rates, and the ratios of each round with the llama-server round
    run just before it (the machine's speed drifts over minutes: a pair shares its minute),
    with their geometric mean and its interval (``pair_interval``)."""
    if header:
        print(  # noqa: T201
            "| chats | QueueChat tok/s | llama-server tok/s | ratio | QueueChat TTFT p50/p95/max "
            "ms | llama-server TTFT p50/p95/max ms | worst TTFT ratio | ratio by round | CPU "
            "outside the model, QueueChat / llama-server |\n|---|---|---|---|---|---|---|---|---|"
        )
    for n, ours, theirs, pairs in rows:
        rate, p50, p95, worst, out = ours
        mean, low, high = pair_interval(pairs)
        peer_rate, peer_p50, peer_p95, peer_worst, peer_out = theirs
        print(  # noqa: T201
            f"| {n} | {rate:.1f} | {peer_rate:.1f} | **{rate / peer_rate:.2f}x** | "
            f"{p50:.0f} / {p95:.0f} / {worst:.0f} | {peer_p50:.0f} / {peer_p95:.0f} / "
            f"{peer_worst:.0f} | {worst / peer_worst:.2f}x | "
            f"{', '.join(f'{pair:.2f}' for pair in pairs)} (median "
            f"{statistics.median(pairs):.2f}, {sum(p >= 1 for p in pairs)} of {len(pairs)} >= 1; "
            f"geometric mean {mean:.2f}, 95% {low:.2f}-{high:.2f}) | "
            f"{out:.1%} / {peer_out:.1%} |",
            flush=True,
        )


def print_by_process(n: int, ours: list[Round], theirs: list[Round]) -> None:
    """Each side's CPU outside the model by process, as a share of the machine over its rounds
    (the processes that took 0.1% or more)."""
    for side, rounds in (("QueueChat", ours), ("llama-server", theirs)):
        machine_s = sum(r.wall_s for r in rounds) * (os.cpu_count() or 1)
        spent: dict[str, float] = {}
        for r in rounds:
            for name, seconds in r.by_process.items():
                spent[name] = spent.get(name, 0.0) + seconds
        shares = sorted(((s / machine_s, name) for name, s in spent.items()), reverse=True)
        listed = ", ".join(f"{name} {share:.1%}" for share, name in shares if share >= 0.001)
        print(f"  {n} chats, {side} outside the model: {listed}", flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
