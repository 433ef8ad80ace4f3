"""One chat reply: claim the message, stream tokens to Redis, store exactly one final state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.enums import MessageRole, MessageStatus
from app.metrics import observe_generation
from app.models import Message, utcnow
from app.services.prompting import PromptTooLong, Turn, build_chat_messages
from workers.context import WorkerContext
from workers.inference.generation import generate_text
from workers.inference.model import ChatModel, Sampling
from workers.inference.prompt_setup import PromptSetup, load_prompt_setup
from workers.retrieval import as_citations, as_context
from workers.vectors import Hit

Retriever = Callable[[str], list[Hit]]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    message_id: int
    attempt: int
    session_id: int
    sampling: Sampling
    setup: PromptSetup = field(default_factory=PromptSetup)


@dataclass
class Outcome:
    status: MessageStatus
    content: str = ""
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)


def claim_message(session: Session, message_id: int, ctx: WorkerContext) -> Claim | None:
    """Marks the message generating and counts the attempt; None when nothing is left to do."""
    row = session.execute(
        update(Message)
        .where(Message.id == message_id)
        .where(Message.status.in_([MessageStatus.QUEUED, MessageStatus.GENERATING]))
        .values(status=MessageStatus.GENERATING, attempts=Message.attempts + 1)
        .returning(
            Message.attempts, Message.session_id, Message.sampling, Message.use_knowledge_base
        ),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if row is None:
        return None
    attempt, session_id, stored_sampling, use_knowledge_base = row
    settings = ctx.settings
    params: dict[str, Any] = stored_sampling or {}
    sampling = Sampling(
        max_tokens=int(params.get("max_tokens", settings.default_max_tokens)),
        temperature=float(params.get("temperature", settings.default_temperature)),
        top_p=float(params.get("top_p", settings.default_top_p)),
        seed=params.get("seed"),
    )
    setup = load_prompt_setup(session, session_id, use_knowledge_base)
    return Claim(message_id, attempt, session_id, sampling, setup)


def load_history(session: Session, claim: Claim) -> list[Turn]:
    """The conversation before this reply: user turns and finished assistant turns."""
    rows = session.execute(
        select(Message.role, Message.content, Message.status)
        .where(Message.session_id == claim.session_id, Message.id < claim.message_id)
        .order_by(Message.id)
    )
    return [
        Turn(role, content)
        for role, content, status in rows
        if role == MessageRole.USER or status == MessageStatus.DONE
    ]


def store_outcome(ctx: WorkerContext, claim: Claim, outcome: Outcome, model_name: str) -> bool:
    """Writes the final state once; a stale attempt (a newer one exists) writes nothing."""
    with ctx.db.session() as session:
        result = session.execute(
            update(Message)
            .where(Message.id == claim.message_id)
            .where(Message.status == MessageStatus.GENERATING)
            .where(Message.attempts == claim.attempt)
            .values(
                status=outcome.status,
                content=outcome.content,
                error=outcome.error,
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                time_to_first_token_ms=outcome.time_to_first_token_ms,
                tokens_per_second=outcome.tokens_per_second,
                citations=outcome.citations,
                model_name=model_name,
                completed_at=utcnow(),
            )
        )
        stored = bool(getattr(result, "rowcount", 0) == 1)
    if stored:
        final_fields: dict[str, Any] = {
            "status": outcome.status.value,
            "prompt_tokens": outcome.prompt_tokens,
            "completion_tokens": outcome.completion_tokens,
            "time_to_first_token_ms": outcome.time_to_first_token_ms,
            "tokens_per_second": outcome.tokens_per_second,
            "citations": outcome.citations,
        }
        event = {
            MessageStatus.DONE: "done",
            MessageStatus.CANCELLED: "cancelled",
            MessageStatus.ERROR: "error",
        }[outcome.status]
        if outcome.error:
            final_fields["error"] = outcome.error
        ctx.streams.append(claim.message_id, event, **final_fields)
        ctx.streams.clear_cancel(claim.message_id)
    return stored


def generate(
    ctx: WorkerContext,
    model: ChatModel,
    claim: Claim,
    history: list[Turn],
    retriever: Retriever | None = None,
) -> Outcome:
    """Streams the reply token by token, checking the cancel flag before each one."""
    sampling = claim.sampling
    setup = claim.setup
    hits = retriever(history[-1].content) if retriever and setup.use_knowledge_base else []
    hits = within_budget(model, hits, ctx.settings.rag_context_tokens)
    try:
        built = build_chat_messages(
            history,
            fits=lambda candidate: model.fits(candidate, sampling.max_tokens),
            system_prompt=setup.system_prompt,
            examples=setup.examples,
            context=as_context(hits),
        )
    except PromptTooLong as exc:
        return Outcome(MessageStatus.ERROR, error=str(exc))
    used = hits[: built.context_used]
    prompt, stop = model.format(built.messages)
    prompt_tokens = model.tokenize(prompt)
    generated = generate_text(
        model,
        prompt_tokens,
        stop,
        sampling,
        lane="chat",
        streams=ctx.streams,
        stream_id=claim.message_id,
        flush_interval_s=ctx.settings.stream_flush_ms / 1000,
    )
    return Outcome(
        MessageStatus.CANCELLED if generated.ending == "cancelled" else MessageStatus.DONE,
        content=generated.text,
        prompt_tokens=len(prompt_tokens),
        completion_tokens=generated.completion_tokens,
        time_to_first_token_ms=generated.time_to_first_token_ms,
        tokens_per_second=generated.tokens_per_second,
        citations=as_citations(used),
    )


def within_budget(model: ChatModel, hits: list[Hit], budget_tokens: int) -> list[Hit]:
    """The best hits whose text fits the context budget (RAG_CONTEXT_TOKENS), in rank order."""
    kept: list[Hit] = []
    for hit in hits:
        budget_tokens -= len(model.tokenize(hit.chunk.text))
        if budget_tokens < 0:
            break
        kept.append(hit)
    return kept


def run_reply(
    ctx: WorkerContext, model: ChatModel, message_id: int, retriever: Retriever | None = None
) -> None:
    """The whole job for one assistant message; safe to run again after a redelivery."""
    with ctx.db.session() as session:
        claim = claim_message(session, message_id, ctx)
        history = load_history(session, claim) if claim else []
    if claim is None:
        logger.info("message %s is already final; nothing to do", message_id)
        return
    if claim.attempt > 1:
        ctx.streams.append(message_id, "reset", attempt=claim.attempt)
    if claim.attempt > ctx.settings.reply_attempts:
        outcome = Outcome(
            MessageStatus.ERROR,
            error=f"the reply failed after {ctx.settings.reply_attempts} attempts",
        )
    elif ctx.streams.cancel_requested(message_id):
        outcome = Outcome(MessageStatus.CANCELLED)
    else:
        try:
            outcome = generate(ctx, model, claim, history, retriever)
        except Exception:
            logger.exception("generation failed for message %s", message_id)
            outcome = Outcome(MessageStatus.ERROR, error="generation failed in the worker")
    if store_outcome(ctx, claim, outcome, model.name):
        observe_generation(
            "chat",
            outcome.status.value,
            outcome.completion_tokens,
            outcome.time_to_first_token_ms,
            outcome.tokens_per_second,
        )
