"""Prometheus metrics, multiprocess-safe: workers and gunicorn workers write under the metrics
directory (PROMETHEUS_MULTIPROC_DIR, set by the run command) and /metrics merges the files.

Every metric here has labels, so importing this module creates no file: values appear on the
first observation, after the process has its environment.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

logger = logging.getLogger(__name__)

GENERATIONS = Counter(
    "queuechat_generations",
    "Finished generations by kind (chat, batch, api) and final status",
    ["kind", "status"],
)
TOKENS_GENERATED = Counter(
    "queuechat_tokens_generated", "Tokens generated, by kind of generation", ["kind"]
)
TIME_TO_FIRST_TOKEN = Histogram(
    "queuechat_time_to_first_token_seconds",
    "Time from the start of generation to the first token",
    ["kind"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOKENS_PER_SECOND = Histogram(
    "queuechat_tokens_per_second",
    "Decoding speed of one generation",
    ["kind"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
INGEST_CHUNKS = Counter(
    "queuechat_ingest_chunks", "Document chunks embedded and stored by ingest workers", ["status"]
)
HTTP_LATENCY = Histogram(
    "queuechat_http_request_duration_seconds",
    "HTTP request latency by method, route and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

QUEUE_WAIT = Histogram(
    "queuechat_queue_wait_seconds",
    "Time a job waited in its queue: sent by the web process until a worker started it",
    ["queue", "model"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
# per worker process (liveall: one series per live pid, gone when the process exits)
REPLIES_IN_FLIGHT = Gauge(
    "queuechat_replies_in_flight",
    "Jobs an inference worker process is running now, by queue",
    ["queue"],
    multiprocess_mode="liveall",
)
ENGINE_SEQUENCES = Gauge(
    "queuechat_engine_sequences",
    "Engine sequences of an inference worker process: running (holding a place), waiting, places",
    ["state"],
    multiprocess_mode="liveall",
)
ENGINE_STEP = Histogram(
    "queuechat_engine_step_seconds",
    "One llama_decode of an inference worker's engine, by tokens in the step (1: one reply "
    "decoding; more: several replies, or a prompt being evaluated)",
    ["tokens"],
    buckets=(0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.2, 0.5, 1, 2.5),
)
PROMPT_TOKENS = Counter(
    "queuechat_prompt_tokens",
    "Prompt tokens an inference worker's engine took in, by source: cached (already in its "
    "cache: a chat's earlier turns, a shared prefix) or evaluated",
    ["source"],
)
ENGINE_STEPS_ENDED = Counter(
    "queuechat_engine_steps_ended_early",
    "Steps of batch items alone an inference worker's engine ended early, by reason (chat_job: "
    "a chat job began); each is made again after the chat's prompt",
    ["reason"],  # a labelled metric: its multiprocess file is made when first used, not at import
)
STEP_SIZES = ((1, "1"), (4, "2-4"), (16, "5-16"), (64, "17-64"))  # else "65+"


def step_size(tokens: int) -> str:
    return next((name for most, name in STEP_SIZES if tokens <= most), "65+")


# Refused by a usage budget (per user, per key, ...). Defined here; the budgets feature
# increments it where it refuses (scope: what the budget applies to).
BUDGET_REFUSALS = Counter(
    "queuechat_budget_refusals", "Requests refused because a usage budget was spent", ["scope"]
)

CONTENT_DECISIONS = Counter(
    "queuechat_content_filter_decisions",
    "Content policy decisions by stage (input, retrieval, output) and decision",
    ["stage", "decision"],
)


def observe_content_decision(stage: str, decision: str) -> None:
    try:
        CONTENT_DECISIONS.labels(stage, decision).inc()
    except OSError:
        logger.warning("could not record a content decision", exc_info=True)


def observe_queue_wait(queue: str, model: str, sent_at: float | None) -> None:
    """Called when a job starts (once per start: a job sent back is observed when it runs)."""
    if sent_at is None:
        return
    try:
        QUEUE_WAIT.labels(queue, model).observe(max(0.0, time.time() - sent_at))
    except OSError:
        logger.warning("could not record the queue wait", exc_info=True)


def observe_generation(
    kind: str,
    status: str,
    completion_tokens: int | None,
    time_to_first_token_ms: float | None,
    tokens_per_second: float | None,
) -> None:
    """Called once per finished generation (never per token): the hot loop stays cheap."""
    try:
        GENERATIONS.labels(kind, status).inc()
        if completion_tokens:
            TOKENS_GENERATED.labels(kind).inc(completion_tokens)
        if time_to_first_token_ms is not None:
            TIME_TO_FIRST_TOKEN.labels(kind).observe(time_to_first_token_ms / 1000)
        if tokens_per_second is not None:
            TOKENS_PER_SECOND.labels(kind).observe(tokens_per_second)
    except OSError:  # an unwritable metrics directory must not fail the job
        logger.warning("could not record generation metrics", exc_info=True)


def observe_ingest_chunks(count: int) -> None:
    """Called by ingest workers once per stored batch of chunks."""
    try:
        INGEST_CHUNKS.labels("stored").inc(count)
    except OSError:
        logger.warning("could not record ingest metrics", exc_info=True)


def count_budget_refusal(scope: str) -> None:
    """A request refused by a token budget; scope: "user" (their own) or "default"."""
    try:
        BUDGET_REFUSALS.labels(scope).inc()
    except OSError:
        logger.warning("could not record a budget refusal", exc_info=True)


def prepare_metrics_dir(directory: Path) -> None:
    """The multiprocess directory must exist before a process records its first value."""
    directory.mkdir(parents=True, exist_ok=True)
