"""Chat before batch: chat time to first token while a 1000-item batch runs vs. an idle queue.

Run: .venv/bin/python -m bench.priority [--batch-api]
``--batch-api`` submits the batch through OpenAI's Batch API (a JSONL file uploaded to
/v1/files, then /v1/batches with /v1/chat/completions lines) instead of /api/batches: the same
queue underneath, so the figures should match.
One stack (gunicorn, Redis, SQLite) and one inference worker consuming `-Q inference,batch`, as
the Procfile runs it. Chats are sent one at a time at random moments; TTFT is POST -> first
token over the WebSocket. Idle samples are taken before the batch and after it is cancelled
(once the busy phase has its samples), so load drift on the machine hits both sides.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from typing import Any

from bench.harness import Stack, running_stack, warm_up
from bench.stream import percentile, pipeline_run
from testkit.processes import WorkerProcess, wait_until
from testkit.wsclient import ChatSocket

QUESTION = "Name one animal that lives in the sea."
# each chat asks a question of its own: a question asked before is still cached on an idle
# queue (its prompt's last two tokens evaluated) but evicted by a running batch, which made the
# idle samples cheaper than any new message and the ratio a measure of the cache
ASKED = itertools.count()


def chat_ttfts(
    stack: Stack, sock: ChatSocket, count: int, max_tokens: int
) -> tuple[list[float], list[tuple[float, float]]]:
    """Each chat's TTFT in ms, and its stages (POST, engine: Stack.stages)."""
    found, mark = [], len(stack.stages)
    for _ in range(count):
        time.sleep(random.uniform(0.0, 0.3))  # land at a random point of the running batch item
        ttft, _, _ = pipeline_run(stack, sock, f"{next(ASKED)}. {QUESTION}", max_tokens)
        found.append(ttft * 1000)
    return found, stack.stages[mark:]


def stages(ttfts: list[float], recorded: list[tuple[float, float]]) -> str:
    """Where a phase's first tokens went, p50/p95 in ms: the POST, the queue and the worker
    before the engine (claim, prompt) with the relay after it, and the engine's own TTFT."""
    posts = [post for post, _ in recorded]
    engine = [ttft for _, ttft in recorded]
    between = [ttft - post - e for ttft, (post, e) in zip(ttfts, recorded, strict=True)]

    def spread(values: list[float]) -> str:
        return f"{percentile(values, 0.5):.0f}/{percentile(values, 0.95):.0f}"

    return f"POST {spread(posts)}, queue + claim + relay {spread(between)}, engine {spread(engine)}"


def submit_batch(stack: Stack, items: int, max_tokens: int) -> dict[str, object]:
    lines = "\n".join(
        json.dumps(
            {"custom_id": f"item-{i}", "prompt": f"Say the number {i}.", "max_tokens": max_tokens}
        )
        for i in range(items)
    )
    response = stack.http.post(
        "/api/batches", content=lines, headers={"Content-Type": "application/jsonl"}, timeout=120
    )
    response.raise_for_status()
    batch: dict[str, object] = response.json()
    return batch


def submit_openai_batch(stack: Stack, items: int, max_tokens: int) -> dict[str, object]:
    """The same work through the Batch API; its batch is also /api/batches/{n} (one machinery)."""
    lines = "".join(
        json.dumps(
            {
                "custom_id": f"item-{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {
                    "model": stack.settings.served_model_name,
                    "messages": [{"role": "user", "content": f"Say the number {i}."}],
                    "max_tokens": max_tokens,
                },
            }
        )
        + "\n"
        for i in range(items)
    )
    uploaded = stack.http.post(
        "/v1/files",
        files={"file": ("batch.jsonl", lines.encode())},
        data={"purpose": "batch"},
        timeout=120,
    )
    uploaded.raise_for_status()
    created = stack.http.post(
        "/v1/batches",
        json={
            "input_file_id": uploaded.json()["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
        timeout=120,
    )
    created.raise_for_status()
    assert created.json()["status"] == "in_progress", created.json()
    return {"id": int(created.json()["id"].removeprefix("batch_"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    # p95 of 30 samples is the second largest: runs of the same code gave ratios of 0.6-1.55x
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--item-tokens", type=int, default=128)  # realistic batch work
    parser.add_argument("--chat-tokens", type=int, default=4)
    parser.add_argument("--batch-api", action="store_true", help="submit through /v1/batches")
    parser.add_argument(
        "--no-preemption",
        action="store_true",
        help="batch items run at chat priority (no place is taken from them)",
    )
    args = parser.parse_args()
    random.seed(7)
    with running_stack(
        n_threads=args.threads,
        inference=False,
        rate_limits_enabled=False,
        max_open_batch_items_per_user=max(5000, args.items),
        batch_preemption=not args.no_preemption,
    ) as stack:
        worker = WorkerProcess(stack.settings, queues="inference,batch")
        try:
            sock = ChatSocket(stack.ws_url, stack.token)
            warm_up(lambda: chat_ttfts(stack, sock, 1, args.chat_tokens))
            half = args.requests // 2  # idle samples before and after: drift hits both sides
            idle, idle_stages = chat_ttfts(stack, sock, half, args.chat_tokens)
            started = time.perf_counter()
            submit = submit_openai_batch if args.batch_api else submit_batch
            batch = submit(stack, args.items, args.item_tokens)
            submitted_s = time.perf_counter() - started

            def batch_state() -> dict[str, Any]:
                state: dict[str, Any] = stack.http.get(f"/api/batches/{batch['id']}").json()
                return state

            wait_until(
                lambda: batch_state()["counts"]["done"] >= 2,
                timeout=120,
                what="the batch to start",
            )
            busy, busy_stages = chat_ttfts(stack, sock, args.requests, args.chat_tokens)
            state = batch_state()
            elapsed = time.perf_counter() - started
            stack.http.post(f"/api/batches/{batch['id']}/cancel").raise_for_status()
            wait_until(
                lambda: batch_state()["counts"]["running"] == 0,
                timeout=60,
                what="the cancelled batch to stop",
            )
            more, more_stages = chat_ttfts(stack, sock, args.requests - half, args.chat_tokens)
            idle, idle_stages = idle + more, idle_stages + more_stages
            sock.close()
        finally:
            worker.stop()
    counts = state["counts"]
    done = counts["done"]
    print(
        f"model {stack.settings.model_path.name}, threads {args.threads}, one worker "
        f"-Q inference,batch; batch of {args.items} items x {args.item_tokens} tokens "
        f"through {'the Batch API (/v1/batches)' if args.batch_api else '/api/batches'} "
        f"(submitted in {submitted_s:.2f} s), chat replies of {args.chat_tokens} tokens, "
        f"preemption {'off' if args.no_preemption else 'on'}"
    )
    print(
        f"batch while measuring: {done} items done in {elapsed:.1f} s "
        f"({done / elapsed:.2f} items/s, {done * args.item_tokens / elapsed:.0f} tok/s at most), "
        f"{counts['queued']} still queued"
    )
    idle_p50, idle_p95 = percentile(idle, 0.5), percentile(idle, 0.95)
    busy_p50, busy_p95 = percentile(busy, 0.5), percentile(busy, 0.95)
    print(
        f"chat TTFT idle queue  ({args.requests} requests): p50 {idle_p50:.1f} ms, "
        f"p95 {idle_p95:.1f} ms; {stages(idle, idle_stages)}"
    )
    print(
        f"chat TTFT during batch ({args.requests} requests): p50 {busy_p50:.1f} ms, "
        f"p95 {busy_p95:.1f} ms; {stages(busy, busy_stages)}"
    )
    print(f"p95 ratio busy/idle: {busy_p95 / idle_p95:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
