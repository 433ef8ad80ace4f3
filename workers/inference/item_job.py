"""Batch items and OpenAI API completions for the job runner: BatchItem rows.

An API completion has no batch and streams its tokens (stream namespace "item:"); a batch item
streams nothing, runs at batch priority (a chat reply takes its place in the engine, and it
resumes where it was), and the last one to finish closes its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.enums import OPEN_ITEM_STATUSES, BatchStatus, ItemStatus
from app.models import BatchItem, BatchJob, PromptTemplate, utcnow
from app.services.batch_close import close_if_finished
from app.services.prompting import ChatMessage, PromptTooLong
from app.services.tool_calls import native_tools, output_problem, prompt_turns
from app.streams import TokenStreams
from workers.context import WorkerContext
from workers.inference.budget import finish_reason, within_reserve
from workers.inference.generation import Generated
from workers.inference.grammars import request_grammar
from workers.inference.model import ChatModel, Sampling
from workers.inference.runner import Claim, Job, Outcome, Prompt, store_final
from workers.inference.sequence import BATCH, CHAT


@dataclass(frozen=True)
class ItemClaim(Claim):
    batch_id: int | None
    request: dict[str, Any]
    messages: list[ChatMessage] = field(default_factory=list)
    problem: str | None = None  # why it cannot run (a template that is not there)
    owner_id: int = 0
    api_key_id: int | None = None
    reserved_tokens: int | None = None  # what the user's budget lets it spend


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
    claim_columns = (
        BatchItem.batch_id,
        BatchItem.request,
        BatchItem.owner_id,
        BatchItem.api_key_id,
        BatchItem.reserved_tokens,
    )
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
        batch_id, request, owner_id, api_key_id, reserved = columns
        whose = {"owner_id": owner_id, "api_key_id": api_key_id, "reserved_tokens": reserved}
        if batch_id is not None:
            session.execute(
                update(BatchJob)
                .where(BatchJob.id == batch_id, BatchJob.status == BatchStatus.QUEUED)
                .values(status=BatchStatus.RUNNING)
            )
        messages = chat_messages(session, request)
        if isinstance(messages, str):
            return ItemClaim(
                claim.id, claim.attempt, batch_id, dict(request), problem=messages, **whose
            )
        return ItemClaim(claim.id, claim.attempt, batch_id, dict(request), messages, **whose)

    def streams(self, ctx: WorkerContext) -> TokenStreams | None:
        if not self.stream:
            return None
        return TokenStreams.for_completions(ctx.streams.client, ctx.settings)

    def problem(self, claim: ItemClaim) -> str | None:
        return claim.problem

    def prompt(self, ctx: WorkerContext, model: ChatModel, claim: ItemClaim) -> Prompt:
        sampling, _ = within_reserve(
            Sampling.from_params(claim.request["sampling"]), claim.reserved_tokens
        )
        raw = claim.request.get("raw_prompt")
        tokens, template_stop = (
            (model.encode_raw(raw), [])
            if raw is not None
            else model.encode(claim.messages, native_tools(claim.request))
        )
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
            grammar=request_grammar(claim.request),
            policy=ctx.content_policy.for_template(claim.request.get("template")),
        )

    def finished(
        self, model: ChatModel, claim: ItemClaim, prompt: Prompt, generated: Generated
    ) -> ItemOutcome:
        if generated.ending == "filtered":  # as OpenAI says it: no text, "content_filter"
            output = {"stage": "output", "rule": generated.blocked_rule,
                      "template": claim.request.get("template")}  # fmt: skip
            return ItemOutcome(
                ItemStatus.DONE, output="", finish_reason="content_filter", blocked=[output]
            )
        cancelled = generated.ending == "cancelled"
        if not cancelled and generated.finish_reason == "stop":
            problem = output_problem(claim.request, generated.text)
            if problem is not None:  # the grammar should rule this out: fail, never pass it on
                return ItemOutcome(ItemStatus.FAILED, error=problem, output=generated.text)
        _, capped = within_reserve(
            Sampling.from_params(claim.request["sampling"]), claim.reserved_tokens
        )
        return ItemOutcome(
            ItemStatus.CANCELLED if cancelled else ItemStatus.DONE,
            output=generated.text,
            finish_reason=finish_reason(generated, capped),
        )

    def failure(self, error: str) -> ItemOutcome:
        return ItemOutcome(ItemStatus.FAILED, error=error)

    def cancelled(self) -> ItemOutcome:
        return ItemOutcome(ItemStatus.CANCELLED)

    def columns(self, outcome: ItemOutcome, model_name: str) -> dict[str, Any]:
        return {"output": outcome.output, "finish_reason": outcome.finish_reason}

    def after_final_write(self, session: Session, claim: ItemClaim) -> None:
        """The last item to finish closes its batch (app/services/batch_close.py: each final
        write locks the batch row first, so of items finishing together the one that commits
        last sees every other item final), and a Batch API batch gets its result files."""
        if claim.batch_id is not None:
            close_if_finished(session, claim.batch_id)

    def kind(self, claim: ItemClaim) -> str:
        return "batch" if claim.batch_id is not None else "api"

    def usage_owner(self, claim: ItemClaim) -> tuple[int, int | None]:
        return claim.owner_id, claim.api_key_id


def chat_messages(session: Session, request: dict[str, Any]) -> list[ChatMessage] | str:
    """The request's messages, after the named template's system prompt and examples, with
    tool calls, tool results and the tools' and response format's instruction as text."""
    messages = list(request.get("messages", []))
    name = request.get("template")
    if not name:
        return prompt_turns(messages, request)
    template = session.scalar(
        select(PromptTemplate).where(PromptTemplate.name == name, PromptTemplate.active)
    )
    if template is None:
        return f"template {name!r} does not exist or is not active"
    prefix: list[ChatMessage] = [{"role": "system", "content": template.system_prompt}]
    for example in template.examples:
        prefix.append({"role": "user", "content": example.user_input})
        prefix.append({"role": "assistant", "content": example.assistant_output})
    return prompt_turns(prefix + messages, request)


def store_item(ctx: WorkerContext, claim: ItemClaim, outcome: ItemOutcome) -> bool:
    """Writes a batch item's final state once (closing a finished batch); stale attempts do not."""
    return store_final(ctx, ItemJob(stream=False), claim, outcome, model_name="")
