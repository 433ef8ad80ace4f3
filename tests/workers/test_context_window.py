"""A chat longer than the model's context window: its prompt keeps its start for a few turns
after each move, so a worker evaluates the whole window only when the start moves, not at every
turn (real worker, real model, its /metrics)."""

from __future__ import annotations

import time
from pathlib import Path

from app import create_app
from app.config import Settings
from tests.conftest import register_and_login
from tests.workers.test_worker_metrics import Samples, scrape, worker_with_metrics

N_CTX = 256  # the smallest window the settings allow: a dozen short turns outgrow it
TURNS = 14


def prompt_tokens(samples: Samples) -> dict[str, float]:
    name = "queuechat_prompt_tokens_total"
    return {dict(labels)["source"]: v for (n, labels), v in samples.items() if n == name}


def test_a_chat_past_the_window_is_evaluated_whole_only_when_its_start_moves(
    settings: Settings, tmp_path: Path
) -> None:
    isolated, worker = worker_with_metrics(settings.model_copy(update={"n_ctx": N_CTX}), tmp_path)
    app = create_app(isolated)
    client = app.test_client()
    headers = register_and_login(client)
    turns: list[tuple[int, float]] = []  # each turn: its prompt's tokens, and those evaluated
    try:
        chat = client.post("/api/sessions", json={}, headers=headers).json
        seen = 0.0
        for turn in range(TURNS):
            body = {"content": f"Tell me a fact about the number {turn}.", "max_tokens": 8}
            reply = client.post(f"/api/sessions/{chat['id']}/messages", json=body, headers=headers)
            assert reply.status_code == 202, reply.json
            path = f"/api/messages/{reply.json['assistant_message_id']}"
            deadline = time.monotonic() + 60
            while (stored := client.get(path, headers=headers).json)["status"] != "done":
                assert stored["status"] in ("queued", "generating"), stored
                assert time.monotonic() < deadline, stored
                time.sleep(0.05)
            # the worker adds to its prompt counters once a second: wait for this turn's
            while (
                sum((counts := prompt_tokens(scrape(isolated.worker_metrics_port))).values())
                <= seen
            ):
                assert time.monotonic() < deadline, counts
                time.sleep(0.1)
            total = sum(counts.values())
            assert total - seen == stored["prompt_tokens"], (turn, counts, stored)
            turns.append((stored["prompt_tokens"], counts.get("evaluated", 0.0)))
            seen = total
    finally:
        worker.stop()
        app.extensions["queuechat"].db.dispose()
    sizes = [size for size, _ in turns]
    evaluated = [turns[0][1]] + [b[1] - a[1] for a, b in zip(turns, turns[1:], strict=False)]
    whole = [i for i in range(1, TURNS) if evaluated[i] > sizes[i] / 2]
    # the chat outgrew the window, several turns before the end
    assert whole and whole[0] < TURNS - 4, (sizes, evaluated)
    past = whole[0]
    assert sizes[past] < sizes[past - 1], (sizes, evaluated)  # where its start moved
    # then one move every few turns: in between, a turn evaluates its new messages only
    assert len(whole) <= (TURNS - past) // 2, (sizes, evaluated)
    for i in range(1, TURNS):
        if i not in whole:
            assert evaluated[i] < sizes[i] - sizes[i - 1] + 8, (i, sizes, evaluated)
    # and the window still holds more than half of what the model can take
    assert min(sizes[past:]) > (N_CTX - 8) / 2, sizes
