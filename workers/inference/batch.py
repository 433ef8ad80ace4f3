"""Batch items and OpenAI API completions: claim the row, generate, store one final state.

Both are BatchItem rows (an API completion has no batch). The pattern is the chat reply's:
the claim counts the attempt, a redelivered job starts over, and the final write is
conditional on the attempt, so a worker killed mid-item loses no item and no item gets two
final writes. API completions also stream their tokens (stream namespace "item:").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.enums import OPEN_ITEM_STATUSES, BatchStatus, ItemStatus
from app.metrics import observe_generation
from app.models import BatchItem, BatchJob, PromptTemplate, utcnow
from app.services.prompting import ChatMessage
from app.streams import TokenStreams
from workers.context import WorkerContext
from workers.inference.generation import generate_text
from workers.inference.model import ChatModel, Sampling
from workers.inference.preemption import (
    chat_waiting,
    requeue_item,
    requeue_job,
    takes_chat_jobs,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemClaim:
    item_id: int
    attempt: int
    batch_id: int | None
    request: dict[str, Any]


@dataclass
class ItemOutcome:
    status: ItemStatus
    output: str = ""
    error: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None


def item_streams(ctx: WorkerContext) -> TokenStreams:
    return TokenStreams.for_completions(ctx.streams.client, ctx.settings)


def claim_item(session: Session, item_id: int) -> ItemClaim | None:
    """Marks the item running and counts the attempt; None when it is final already."""
    attempt = session.execute(
        update(BatchItem)
        .where(BatchItem.id == item_id, BatchItem.status.in_(list(OPEN_ITEM_STATUSES)))
        .values(
            status=ItemStatus.RUNNING,
            attempts=BatchItem.attempts + 1,
            started_at=func.coalesce(BatchItem.started_at, utcnow()),
        )
        .returning(BatchItem.attempts)
    ).scalar_one_or_none()
    if attempt is None:
        return None
    item = session.get_one(BatchItem, item_id)
    if item.batch_id is not None:
        session.execute(
            update(BatchJob)
            .where(BatchJob.id == item.batch_id, BatchJob.status == BatchStatus.QUEUED)
            .values(status=BatchStatus.RUNNING)
        )
    return ItemClaim(item_id, attempt, item.batch_id, dict(item.request))


def chat_messages(session: Session, request: dict[str, Any]) -> list[ChatMessage] | str:
    """The request's messages, after the named template's system prompt and examples."""
    messages: list[ChatMessage] = [dict(m) for m in request.get("messages", [])]
    name = request.get("template")
    if not name:
        return messages
    template = session.scalar(
        select(PromptTemplate).where(PromptTemplate.name == name, PromptTemplate.active)
    )
    if template is None:
        return f"template {name!r} does not exist or is not active"
    prefix: list[ChatMessage] = [{"role": "system", "content": template.system_prompt}]
    for example in template.examples:
        prefix.append({"role": "user", "content": example.user_input})
        prefix.append({"role": "assistant", "content": example.assistant_output})
    return prefix + messages


def generate_item(
    model: ChatModel,
    claim: ItemClaim,
    messages: list[ChatMessage],
    streams: TokenStreams | None,
    should_yield: Callable[[], bool] | None = None,
    *,
    flush_interval_s: float,
) -> ItemOutcome:
    params = claim.request["sampling"]
    sampling = Sampling(
        max_tokens=int(params["max_tokens"]),
        temperature=float(params["temperature"]),
        top_p=float(params["top_p"]),
        seed=params.get("seed"),
    )
    prompt, template_stop = model.format(messages)
    prompt_tokens = model.tokenize(prompt)
    if len(prompt_tokens) + sampling.max_tokens > model.n_ctx:
        return ItemOutcome(
            ItemStatus.FAILED,
            error=f"the prompt ({len(prompt_tokens)} tokens) and max_tokens "
            f"({sampling.max_tokens}) do not fit the context window ({model.n_ctx})",
        )
    stop = template_stop + list(claim.request.get("stop", []))
    generated = generate_text(
        model,
        prompt_tokens,
        stop,
        sampling,
        lane="batch" if claim.batch_id is not None else "chat",
        streams=streams,
        stream_id=claim.item_id,
        flush_interval_s=flush_interval_s,
        should_yield=should_yield,
    )
    if generated.ending == "preempted":
        return ItemOutcome(ItemStatus.QUEUED)  # handed back to the queue
    return ItemOutcome(
        ItemStatus.CANCELLED if generated.ending == "cancelled" else ItemStatus.DONE,
        output=generated.text,
        finish_reason=model.finish_reason,
        prompt_tokens=len(prompt_tokens),
        completion_tokens=generated.completion_tokens,
        time_to_first_token_ms=generated.time_to_first_token_ms,
        tokens_per_second=generated.tokens_per_second,
    )


def store_item(ctx: WorkerContext, claim: ItemClaim, outcome: ItemOutcome) -> bool:
    """Writes the final state once; a stale attempt writes nothing. Closes a finished batch."""
    with ctx.db.session() as session:
        result = session.execute(
            update(BatchItem)
            .where(
                BatchItem.id == claim.item_id,
                BatchItem.status == ItemStatus.RUNNING,
                BatchItem.attempts == claim.attempt,
            )
            .values(
                status=outcome.status,
                output=outcome.output,
                error=outcome.error,
                finish_reason=outcome.finish_reason,
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                time_to_first_token_ms=outcome.time_to_first_token_ms,
                tokens_per_second=outcome.tokens_per_second,
                completed_at=utcnow(),
            )
        )
        stored = bool(getattr(result, "rowcount", 0) == 1)
        if stored and claim.batch_id is not None:
            still_open = exists().where(
                BatchItem.batch_id == claim.batch_id,
                BatchItem.status.in_(list(OPEN_ITEM_STATUSES)),
            )
            session.execute(
                update(BatchJob)
                .where(
                    BatchJob.id == claim.batch_id,
                    BatchJob.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
                    ~still_open,
                )
                .values(status=BatchStatus.DONE)
            )
    return stored


def announce(streams: TokenStreams, claim: ItemClaim, outcome: ItemOutcome) -> None:
    """The final stream event of an API completion, after the database write."""
    fields = {
        "status": outcome.status.value,
        "finish_reason": outcome.finish_reason,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
    }
    if outcome.error:
        fields["error"] = outcome.error
    event = {ItemStatus.DONE: "done", ItemStatus.CANCELLED: "cancelled"}.get(
        outcome.status, "error"
    )
    streams.append(claim.item_id, event, **fields)
    streams.clear_cancel(claim.item_id)


def run_item(ctx: WorkerContext, model: ChatModel, item_id: int, *, stream: bool) -> None:
    """The whole job for one item; safe to run again after a redelivery."""
    preemptible = not stream and ctx.settings.batch_preemption and takes_chat_jobs()
    if preemptible and chat_waiting(ctx.streams.client):
        requeue_job(item_id)  # not even claimed: the chat job goes first
        return
    with ctx.db.session() as session:
        claim = claim_item(session, item_id)
        messages = chat_messages(session, claim.request) if claim else []
    if claim is None:
        logger.info("item %s is already final; nothing to do", item_id)
        return
    streams = item_streams(ctx) if stream else None
    if streams is not None and claim.attempt > 1:
        streams.append(item_id, "reset", attempt=claim.attempt)
    if claim.attempt > ctx.settings.reply_attempts:
        outcome = ItemOutcome(
            ItemStatus.FAILED, error=f"failed after {ctx.settings.reply_attempts} attempts"
        )
    elif isinstance(messages, str):
        outcome = ItemOutcome(ItemStatus.FAILED, error=messages)
    elif streams is not None and streams.cancel_requested(item_id):
        outcome = ItemOutcome(ItemStatus.CANCELLED)
    else:
        client = ctx.streams.client
        should_yield = (lambda: chat_waiting(client)) if preemptible else None
        try:
            outcome = generate_item(
                model,
                claim,
                messages,
                streams,
                should_yield,
                flush_interval_s=ctx.settings.stream_flush_ms / 1000,
            )
        except Exception:
            logger.exception("generation failed for item %s", item_id)
            outcome = ItemOutcome(ItemStatus.FAILED, error="generation failed in the worker")
    if outcome.status == ItemStatus.QUEUED:
        requeue_item(ctx, item_id, claim.attempt)
        return
    if store_item(ctx, claim, outcome):
        if streams is not None:
            announce(streams, claim, outcome)
        observe_generation(
            "batch" if claim.batch_id is not None else "api",
            outcome.status.value,
            outcome.completion_tokens,
            outcome.time_to_first_token_ms,
            outcome.tokens_per_second,
        )
