"""A step of batch items ends early when a chat job's hold begins (interrupt.py), on the real
model: the step stops, its sequences are as before it, and made again it gives what it would
have given; in the engine, batch items whose steps were ended write the text of an
uninterrupted run, and the worker's metrics count the steps ended."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import pytest
from prometheus_client import REGISTRY

from app.config import Settings
from workers.inference.engine_gauges import sample
from workers.inference.holds import Holds
from workers.inference.interrupt import ABORTED, StepInterrupt
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.sequence import BATCH, Request

ENDED_EARLY = "queuechat_engine_steps_ended_early_total"
PROMPT = 400  # tokens: a step of ~1.5 s here, so a hold 0.1 s in lands inside it
N_VOCAB_LOOK = 64  # logits compared


class Context:
    def __init__(self, model: llama_cpp.llama_model_p) -> None:
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = 512
        params.n_threads = params.n_threads_batch = 2
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        self.lock = threading.Condition()
        self.holds = Holds(self.lock)
        self.interrupt = StepInterrupt(self.ctx, self.lock, self.holds)
        self.batch = llama_cpp.llama_batch_init(512, 0, 1)

    def prompt_step(self) -> int:
        """The same step each time: PROMPT tokens of sequence 0 from position 0."""
        batch = self.batch
        for i in range(PROMPT):
            batch.token[i] = 200 + i
            batch.pos[i] = i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = i == PROMPT - 1
        batch.n_tokens = PROMPT
        return PROMPT

    def last_position(self) -> int:
        position: int = llama_cpp.llama_memory_seq_pos_max(llama_cpp.llama_get_memory(self.ctx), 0)
        return position

    def logits(self) -> list[float]:
        row = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        return [row[i] for i in range(N_VOCAB_LOOK)]

    def close(self) -> None:
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.ctx)


@pytest.fixture(scope="module")
def model(model_path: Path) -> ChatModel:
    return load_model(Settings(model_path=model_path, n_threads=2, n_ctx=1024,
                               parallel_sequences=4))  # fmt: skip


@pytest.fixture
def context(model: ChatModel) -> Iterator[Context]:
    found = Context(model.llm.model)
    yield found
    found.close()


def hold_after(holds: Holds, seconds: float) -> threading.Thread:
    """A chat job's hold, begun ``seconds`` from now in a thread of its own, kept 0.2 s."""

    def run() -> None:
        time.sleep(seconds)
        with holds.expecting():
            time.sleep(0.2)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_hold_ends_the_step_under_way_and_the_step_made_again_gives_the_same(
    context: Context, model: ChatModel, capfd: pytest.CaptureFixture[str]
) -> None:
    context.prompt_step()
    holder = hold_after(context.holds, 0.1)
    assert context.interrupt.decode(context.batch, interruptible=True) == ABORTED
    holder.join()
    assert context.interrupt.ended == 1
    assert context.last_position() == -1, "the ended step left tokens in the cache"
    logged = capfd.readouterr().err
    assert "removing memory" not in logged and "failed to decode" not in logged, logged

    assert context.interrupt.decode(context.batch, interruptible=True) == 0  # no hold: whole
    assert context.last_position() == PROMPT - 1
    fresh = Context(model.llm.model)
    try:
        fresh.prompt_step()
        assert llama_cpp.llama_decode(fresh.ctx, fresh.batch) == 0
        assert context.logits() == fresh.logits()
    finally:
        fresh.close()


def test_a_step_of_chat_work_is_not_ended_by_a_hold(context: Context) -> None:
    context.prompt_step()
    holder = hold_after(context.holds, 0.1)
    assert context.interrupt.decode(context.batch, interruptible=False) == 0
    holder.join()
    assert context.interrupt.ended == 0
    assert context.last_position() == PROMPT - 1


def test_a_step_of_batch_items_is_not_begun_while_a_hold_is_live(context: Context) -> None:
    """A hold that began after the step was planned: the step waits for the chat."""
    context.prompt_step()
    with context.holds.expecting():
        assert context.interrupt.decode(context.batch, interruptible=True) == ABORTED
    assert context.last_position() == -1
    assert context.interrupt.decode(context.batch, interruptible=True) == 0


def test_a_hold_between_steps_leaves_the_next_step_whole(context: Context) -> None:
    """The flag is the step's: one fired while nothing decodes ends no later step."""
    with context.holds.expecting():
        pass
    context.prompt_step()
    assert context.interrupt.decode(context.batch, interruptible=True) == 0
    assert context.last_position() == PROMPT - 1


def test_batch_items_whose_steps_chat_jobs_ended_write_an_uninterrupted_runs_text(
    model: ChatModel,
) -> None:
    """Four items decode; chat jobs begin their claims every few steps (no chat follows: each
    hold lapses or ends). Steps end early, and every item's text equals a run alone."""
    engine = model.engine
    sampling = Sampling(80, 0.0, 1.0, 42)
    tokens, stop = model.encode([{"role": "user", "content": "Write a long story about a fox."}])
    alone = "".join(engine.submit(Request(tokens, stop, sampling)))
    ended = engine.interrupt.ended
    items = [engine.submit(Request(tokens, stop, sampling, priority=BATCH)) for _ in range(4)]
    texts = [""] * 4

    def read(i: int) -> None:
        texts[i] = "".join(items[i])

    readers = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    for reader in readers:
        reader.start()
    while not any(item.ended.is_set() for item in items):
        time.sleep(0.05)  # some steps run whole
        with engine.holds.expecting():
            time.sleep(0.01)
    for reader in readers:
        reader.join(timeout=120)
    assert engine.interrupt.ended > ended, "no step was ended early"
    assert texts == [alone] * 4
    assert all(item.generated_tokens == 80 for item in items)
    counted: dict[str, int] = {"ended": ended}  # what earlier samples had counted
    before = REGISTRY.get_sample_value(ENDED_EARLY, {"reason": "chat_job"}) or 0.0
    sample(engine, counted)
    after = REGISTRY.get_sample_value(ENDED_EARLY, {"reason": "chat_job"})
    assert after == before + engine.interrupt.ended - ended


def test_batch_items_go_on_while_chat_jobs_begin_one_after_another(model: ChatModel) -> None:
    """Holds begin every few milliseconds, far more often than a step ends: were every step
    ended early, no item would move. A step made again after an early end runs whole."""
    engine = model.engine
    sampling = Sampling(30, 0.0, 1.0, 42)
    tokens, stop = model.encode([{"role": "user", "content": "Write a long story about a cat."}])
    alone = "".join(engine.submit(Request(tokens, stop, sampling)))
    ended = engine.interrupt.ended
    stopped = threading.Event()

    def chat_jobs() -> None:
        while not stopped.is_set():
            with engine.holds.expecting():
                pass
            time.sleep(0.002)

    items = [engine.submit(Request(tokens, stop, sampling, priority=BATCH)) for _ in range(2)]
    spinner = threading.Thread(target=chat_jobs)
    spinner.start()
    try:
        finished = [item.ended.wait(timeout=120) for item in items]
    finally:
        stopped.set()
        spinner.join()
    assert finished == [True, True], "batch items stood still while chat jobs began"
    assert engine.interrupt.ended > ended, "no step was ended early"
    assert ["".join(item) for item in items] == [alone] * 2


def test_the_abort_callback_reads_the_flag_in_c() -> None:
    """strlen over [flag, NUL] is the callback: 0 while the flag is down, 1 once it is up."""
    from workers.inference.interrupt import _READ_FLAG

    flag = ctypes.create_string_buffer(2)
    assert not _READ_FLAG(ctypes.addressof(flag))
    flag[0] = b"\1"
    assert _READ_FLAG(ctypes.addressof(flag))
