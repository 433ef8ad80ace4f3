"""Batch items and OpenAI API completions for the job runner: BatchItem rows.

An API completion has no batch and streams its tokens (stream namespace "item:"); a batch item
streams nothing, runs at batch priority (a chat reply takes its place in the engine, and it
resumes where it was), and the last one to finish closes its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from app.enums import OPEN_ITEM_STATUSES, BatchStatus, ItemStatus
from app.models import BatchItem, BatchJob, PromptTemplate, utcnow
from app.services.prompting import ChatMessage, PromptTooLong
from app.streams import TokenStreams
from workers.context import WorkerContext
from workers.inference.generation import Generated
from workers.inference.model import ChatModel, Sampling
from workers.inference.runner import Claim, Job, Outcome, Prompt, store_final
from workers.inference.sequence import BATCH, CHAT


@dataclass(frozen=True)
class ItemClaim(Claim):
    batch_id: int | None
    request: dict[str, Any]
    messages: list[ChatMessage] = field(default_factory=list)
    problem: str | None = None  # why it cannot run (a template that is not there)


@dataclass
class ItemOutcome(Outcome[ItemStatus]):
    output: str = ""
    finish_reason: str | None = None


class ItemJob(Job[ItemClaim, Prompt, ItemOutcome]):
    table = BatchItem
    open_statuses = OPEN_ITEM_STATUSES
    running = ItemStatus.RUNNING
    noun = "item"
    lease_kind = "item"
    claim_columns = (BatchItem.batch_id, BatchItem.request)
    event_fields = ("finish_reason", "prompt_tokens", "completion_tokens")

    def __init__(self, *, stream: bool) -> None:
        """``stream``: an API completion, whose tokens go to its stream as they come."""
        self.stream = stream

    def gave_up(self, attempts: int) -> str:
        return f"failed after {attempts} attempts"

    def claim_values(self) -> dict[str, Any]:
        return {"started_at": func.coalesce(BatchItem.started_at, utcnow())}

    def claimed(
        self, session: Session, ctx: WorkerContext, claim: Claim, columns: Sequence[Any]
    ) -> ItemClaim:
        batch_id, request = columns
        if batch_id is not None:
            session.execute(
                update(BatchJob)
                .where(BatchJob.id == batch_id, BatchJob.status == BatchStatus.QUEUED)
                .values(status=BatchStatus.RUNNING)
            )
        messages = chat_messages(session, request)
        if isinstance(messages, str):
            return ItemClaim(claim.id, claim.attempt, batch_id, dict(request), problem=messages)
        return ItemClaim(claim.id, claim.attempt, batch_id, dict(request), messages)

    def streams(self, ctx: WorkerContext) -> TokenStreams | None:
        if not self.stream:
            return None
        return TokenStreams.for_completions(ctx.streams.client, ctx.settings)

    def problem(self, claim: ItemClaim) -> str | None:
        return claim.problem

    def prompt(self, ctx: WorkerContext, model: ChatModel, claim: ItemClaim) -> Prompt:
        sampling = Sampling.from_params(claim.request["sampling"])
        tokens, template_stop = model.encode(claim.messages)
        if len(tokens) + sampling.max_tokens > model.n_ctx:
            raise PromptTooLong(
                f"the prompt ({len(tokens)} tokens) and max_tokens "
                f"({sampling.max_tokens}) do not fit the context window ({model.n_ctx})"
            )
        yields = claim.batch_id is not None and ctx.settings.batch_preemption
        return Prompt(
            tokens,
            template_stop + list(claim.request.get("stop", [])),
            sampling,
            priority=BATCH if yields else CHAT,
        )

    def finished(
        self, model: ChatModel, claim: ItemClaim, prompt: Prompt, generated: Generated
    ) -> ItemOutcome:
        cancelled = generated.ending == "cancelled"
        return ItemOutcome(
            ItemStatus.CANCELLED if cancelled else ItemStatus.DONE,
            output=generated.text,
            finish_reason=generated.finish_reason,
        )

    def failure(self, error: str) -> ItemOutcome:
        return ItemOutcome(ItemStatus.FAILED, error=error)

    def cancelled(self) -> ItemOutcome:
        return ItemOutcome(ItemStatus.CANCELLED)

    def columns(self, outcome: ItemOutcome, model_name: str) -> dict[str, Any]:
        return {"output": outcome.output, "finish_reason": outcome.finish_reason}

    def after_final_write(self, session: Session, claim: ItemClaim) -> None:
        """The last item to finish closes its batch.

        Items of one batch finish together in the engine: each final write first locks the
        batch row, so the one that commits last sees every other item final and closes it
        (without the lock each saw the others still running and none closed the batch).
        """
        if claim.batch_id is None:
            return
        session.execute(select(BatchJob.id).where(BatchJob.id == claim.batch_id).with_for_update())
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

    def kind(self, claim: ItemClaim) -> str:
        return "batch" if claim.batch_id is not None else "api"


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


def store_item(ctx: WorkerContext, claim: ItemClaim, outcome: ItemOutcome) -> bool:
    """Writes a batch item's final state once (closing a finished batch); stale attempts do not."""
    return store_final(ctx, ItemJob(stream=False), claim, outcome, model_name="")
