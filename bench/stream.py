"""Streaming throughput and queue overhead of QueueChat against raw llama-cpp-python and
llama-server (bench/llama_server.py: the llama.cpp vendored in the pinned llama-cpp-python, the
project's CMake flags), one stream each.

Run: .venv/bin/python -m bench.stream
All sides use the same model file, prompt, threads, seed and temperature 0, in one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import httpx
from llama_cpp import Llama

from app.services.prompting import DEFAULT_SYSTEM_PROMPT
from bench.harness import Stack, running_stack
from bench.llama_server import llama_server
from testkit.wsclient import ChatSocket
from workers.inference.model import ChatModel, load_model

# A pause between the two sides: llama.cpp's OpenMP threads spin for a while after a call
# returns, and they must not compete with the other side's measurement.
SETTLE_S = 0.1
STORY = "Write a very long and detailed story about a lighthouse keeper and a storm."


def raw_run(
    model: ChatModel, raw: Llama, prompt_text: str, max_tokens: int
) -> tuple[float, float, int]:
    """Time to first token, decode rate and token count of raw llama-cpp-python."""
    messages = [
        {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": prompt_text},
    ]
    prompt, stop = model.format(messages)
    started = time.perf_counter()
    times = []
    chunks: Any = raw.create_completion(
        prompt, max_tokens=max_tokens, temperature=0.0, top_p=1.0, seed=42, stop=stop, stream=True
    )
    for chunk in chunks:
        if chunk["choices"][0]["text"]:
            times.append(time.perf_counter())
    return times[0] - started, _rate(times), len(times)


def server_run(url: str, prompt_text: str, max_tokens: int) -> tuple[float, float, int]:
    """Time to first token, decode rate and token count of llama-server's streamed chat."""
    body = {
        "messages": [
            {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
            {"role": "user", "content": prompt_text},
        ],
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "seed": 42,
        "stream": True,
    }
    started = time.perf_counter()
    times = []
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"content":"' in line:
                choices = json.loads(line[6:]).get("choices") or [{}]
                if choices[0].get("delta", {}).get("content"):
                    times.append(time.perf_counter())
    return times[0] - started, _rate(times), len(times)


def pipeline_run(
    stack: Stack, sock: ChatSocket, prompt_text: str, max_tokens: int
) -> tuple[float, float, int]:
    """POST → first token over the WebSocket, then the decode rate the client receives."""
    chat = stack.http.post("/api/sessions", json={}).json()
    started = time.perf_counter()
    reply = stack.http.post(
        f"/api/sessions/{chat['id']}/messages",
        json={
            "content": prompt_text,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_p": 1.0,
            "seed": 42,
        },
    ).json()
    posted_ms = (time.perf_counter() - started) * 1000
    sock.subscribe(reply["assistant_message_id"])
    times = []
    while True:
        event = sock.recv()
        if event["type"] == "token":
            times.append(time.perf_counter())
        elif event["type"] in {"done", "error", "cancelled"}:
            break
    stored = stack.http.get(f"/api/messages/{reply['assistant_message_id']}").json()
    stack.worker_rates.append(stored["tokens_per_second"] or 0.0)
    stack.stages.append((posted_ms, stored["time_to_first_token_ms"] or 0.0))
    return times[0] - started, _rate(times), len(times)


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with running_stack(n_threads=args.threads) as stack:
        model = load_model(stack.settings, with_engine=False)  # the template
        settings = stack.settings
        raw = Llama(
            model_path=str(settings.model_path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads,
            n_batch=settings.n_batch,
            verbose=False,
        )
        sock = ChatSocket(stack.ws_url, stack.token)
        raw_rates, pipe_rates, server_rates, counts = [], [], [], []
        stack.worker_rates = []
        server = llama_server(
            settings.model_path,
            threads=args.threads,
            parallel=1,
            n_ctx_seq=settings.n_ctx,
            n_batch=settings.n_batch,
        )
        with server as url:
            for _ in range(args.rounds):  # interleaved so drift hits every side alike
                _, rate, n_raw = raw_run(model, raw, STORY, 256)
                raw_rates.append(rate)
                time.sleep(SETTLE_S)
                _, rate, n_server = server_run(url, STORY, 256)
                server_rates.append(rate)
                time.sleep(SETTLE_S)
                _, rate, n_pipe = pipeline_run(stack, sock, STORY, 256)
                pipe_rates.append(rate)
                counts.append((n_raw, n_server, n_pipe))
        worker_rates = list(stack.worker_rates)
        overheads, raw_ttfts, pipe_ttfts = [], [], []
        for i in range(args.requests):
            question = f"Question {i}: name one animal that lives in the sea."
            raw_ttft, _, _ = raw_run(model, raw, question, 4)
            time.sleep(SETTLE_S)
            pipe_ttft, _, _ = pipeline_run(stack, sock, question, 4)
            time.sleep(SETTLE_S)
            raw_ttfts.append(raw_ttft * 1000)
            pipe_ttfts.append(pipe_ttft * 1000)
            overheads.append((pipe_ttft - raw_ttft) * 1000)
        sock.close()
    raw_rate, pipe_rate = statistics.median(raw_rates), statistics.median(pipe_rates)
    server_rate = statistics.median(server_rates)
    print(
        f"model {stack.settings.model_path.name}, threads {args.threads}, "
        f"tokens per reply (raw, llama-server, websocket): {counts}"
    )
    print(
        f"stream rate: raw llama-cpp-python {raw_rate:.1f} tok/s, "
        f"websocket {pipe_rate:.1f} tok/s, ratio {pipe_rate / raw_rate:.3f}x (target >= 0.97x); "
        f"decode rate the worker itself measured {statistics.median(worker_rates):.1f} tok/s"
    )
    print(
        f"against llama-server's single stream {server_rate:.1f} tok/s: websocket "
        f"{pipe_rate / server_rate:.3f}x (target >= 1.0x)"
    )
    rounds = ", ".join(f"{pipe / raw:.3f}" for raw, pipe in zip(raw_rates, pipe_rates, strict=True))
    print(f"stream rate ratio of each interleaved round: {rounds}")
    print(
        f"time to first token over {args.requests} requests: raw p50 "
        f"{percentile(raw_ttfts, 0.5):.1f} ms, pipeline p50 {percentile(pipe_ttfts, 0.5):.1f} ms"
    )
    print(
        f"queue overhead (POST -> first token minus raw TTFT): p50 "
        f"{percentile(overheads, 0.5):.1f} ms, p95 {percentile(overheads, 0.95):.1f} ms "
        "(target <= 5 ms)"
    )


if __name__ == "__main__":
    main()
