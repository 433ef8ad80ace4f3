"""Fair sharing: one user queues 20 replies, then three others send one each; the three light
users' time to first token against an idle queue's, with fair sharing and with plain FIFO.

Run: .venv/bin/python -m bench.fairness   (figures only on a quiet machine)
One stack (gunicorn, Redis, SQLite) and one inference worker per mode. TTFT is POST -> first
token over the WebSocket. The target: a light user's TTFT <= 2x the idle TTFT plus one reply
(the time a reply takes alone), whatever the heavy user queued.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Stack, running_stack, warm_up
from bench.stream import percentile
from testkit.processes import wait_until
from testkit.wsclient import ChatSocket

QUESTION = "Name one animal that lives in the sea."


def new_user(stack: Stack) -> httpx.Client:
    account = {"username": f"u{uuid.uuid4().hex[:8]}", "password": "bench password"}
    httpx.post(f"{stack.base_url}/api/auth/register", json=account).raise_for_status()
    token = httpx.post(f"{stack.base_url}/api/auth/login", json=account).json()["access_token"]
    return httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"})


def post_reply(http: httpx.Client, max_tokens: int, text: str = QUESTION) -> int:
    chat = http.post("/api/sessions", json={}).json()
    sent = http.post(
        f"/api/sessions/{chat['id']}/messages",
        json={"content": text, "max_tokens": max_tokens, "temperature": 0.0, "seed": 1},
    )
    sent.raise_for_status()
    return int(sent.json()["assistant_message_id"])


def timed_reply(stack: Stack, http: httpx.Client, max_tokens: int) -> tuple[float, float]:
    """(TTFT, whole reply) in seconds, for one reply sent now."""
    token = str(http.headers["Authorization"]).removeprefix("Bearer ")
    sock = ChatSocket(stack.ws_url, token)
    started = time.perf_counter()
    message_id = post_reply(http, max_tokens)
    sock.subscribe(message_id)
    first = None
    while True:
        event = sock.recv()
        if event["type"] == "token" and first is None:
            first = time.perf_counter()
        if event["type"] in {"done", "error", "cancelled", "message"}:
            break
    ended = time.perf_counter()
    sock.close()
    return (first or ended) - started, ended - started


def run_mode(args: argparse.Namespace, fair: bool) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "fair_sharing": fair,
        "max_open_replies_per_user": args.heavy + 5,
    }
    if args.places:
        overrides["parallel_sequences"] = args.places
    log_dir = args.log_dir / ("fair" if fair else "fifo") if args.log_dir else None
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    with running_stack(n_threads=args.threads, log_dir=log_dir, **overrides) as stack:
        heavy, *light = (new_user(stack) for _ in range(4))
        warm_up(lambda: timed_reply(stack, light[0], args.tokens))
        idle = [timed_reply(stack, light[0], args.tokens) for _ in range(args.idle)]
        for _ in range(args.heavy):
            post_reply(heavy, args.tokens)
        results: list[tuple[float, float]] = []
        lock = threading.Lock()

        def light_user(http: httpx.Client) -> None:
            found = timed_reply(stack, http, args.tokens)
            with lock:
                results.append(found)

        threads = [threading.Thread(target=light_user, args=(http,)) for http in light]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_until(
            lambda: stack.http.get("/api/admin/system").json()["queues"]["inference"] == 0,
            timeout=600,
            what="the heavy user's replies to start",
        )
        for http in (heavy, *light):
            http.close()
    return {
        "idle_ttft": statistics.median(t for t, _ in idle),
        "one_reply": statistics.median(total for _, total in idle),
        "light_ttft": sorted(t for t, _ in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--places", type=int, default=0, help="engine places (0: the default)")
    parser.add_argument("--heavy", type=int, default=20, help="replies the heavy user queues")
    parser.add_argument("--tokens", type=int, default=32, help="max_tokens of every reply")
    parser.add_argument("--idle", type=int, default=5, help="idle samples")
    parser.add_argument("--only", choices=["fair", "fifo"], help="run one order only")
    parser.add_argument("--log-dir", type=Path, help="keep the worker's log there")
    args = parser.parse_args()
    modes = {"fair sharing": True, "plain FIFO": False}
    if args.only:
        modes = {name: fair for name, fair in modes.items() if fair == (args.only == "fair")}
    results = {name: run_mode(args, fair=fair) for name, fair in modes.items()}
    print(
        f"one worker, threads {args.threads}, places {args.places or 'default'}; a heavy user "
        f"queues {args.heavy} replies of {args.tokens} tokens, then three light users send one"
    )
    for name, found in results.items():
        idle, reply = found["idle_ttft"], found["one_reply"]
        target = 2 * idle + reply
        light = found["light_ttft"]
        print(
            f"{name:12s}: idle TTFT {idle * 1000:.0f} ms, one reply {reply * 1000:.0f} ms, "
            f"target {target * 1000:.0f} ms; light users' TTFT "
            + ", ".join(f"{t * 1000:.0f}" for t in light)
            + f" ms (max {max(light) / idle:.1f}x idle, p50 {percentile(light, 0.5) * 1000:.0f} ms)"
            + (" - within target" if max(light) <= target else " - over target")
        )


if __name__ == "__main__":
    main()
