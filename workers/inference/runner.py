"""The one job runner: claim the row, generate, store exactly one final state.

Chat replies (Message rows), batch items and API completions (BatchItem rows) all go this way;
an adapter (a ``Job``) says what differs. The claim counts the attempt, so a redelivered job
starts over (a "reset" event on its stream) and gives up after REPLY_ATTEMPTS; the final write
is conditional on the attempt: a worker killed mid-job loses no row, no row gets two states.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.content_policy import ContentPolicy
from app.metrics import observe_generation
from app.models import BatchItem, Message, utcnow
from app.services import audit
from app.services.prompting import PromptTooLong
from app.services.usage import record_usage
from app.streams import TokenStreams
from workers.context import WorkerContext
from workers.inference.cleanup import forget_if_deleted
from workers.inference.generation import Generated, generate_text
from workers.inference.model import ChatModel, Sampling
from workers.inference.sequence import CHAT
from workers.leases import leased

logger = logging.getLogger(__name__)

StatusT = TypeVar("StatusT", bound=StrEnum)
# The stream event that ends a job, by the value of its final status; any other ends in "error".
FINAL_EVENTS = {"done": "done", "cancelled": "cancelled"}


@dataclass(frozen=True)
class Claim:
    """A row this worker now holds, for this attempt."""

    id: int
    attempt: int


@dataclass(frozen=True)
class Prompt:
    """What to generate from, at which priority (chat first, batch in free places)."""

    tokens: list[int]
    stop: list[str]
    sampling: Sampling
    priority: int = CHAT
    grammar: str | None = None
    policy: ContentPolicy | None = None  # the content policy on the output, if any


@dataclass
class Outcome(Generic[StatusT]):
    """The final state of a job, as stored and as announced on its stream."""

    status: StatusT
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None
    # what the content policy withheld (retrieved chunks, the output): audited with the write
    blocked: list[dict[str, Any]] = field(default_factory=list)


ClaimT = TypeVar("ClaimT", bound=Claim)
PromptT = TypeVar("PromptT", bound=Prompt)
OutcomeT = TypeVar("OutcomeT", bound=Outcome[Any])


class Job(ABC, Generic[ClaimT, PromptT, OutcomeT]):
    """What one kind of job adds to the common path: its table, statuses, prompt and columns."""

    table: ClassVar[type[Message] | type[BatchItem]]
    open_statuses: ClassVar[frozenset[StrEnum]]
    running: ClassVar[StrEnum]
    noun: ClassVar[str]  # in log lines: "message 12", "item 7"
    lease_kind: ClassVar[str]  # the lease's name space (workers/leases.py): "reply", "item"
    claim_columns: ClassVar[tuple[Any, ...]] = ()  # returned by the claim, for claimed()
    # the outcome's fields in the final stream event, in order after "status" (and before "error")
    event_fields: ClassVar[tuple[str, ...]]

    @abstractmethod
    def gave_up(self, attempts: int) -> str:
        """The error of a job that failed this many attempts."""

    def claim_values(self) -> dict[str, Any]:
        """Columns the claim sets besides status and attempts."""
        return {}

    @abstractmethod
    def claimed(
        self, session: Session, ctx: WorkerContext, claim: Claim, columns: Sequence[Any]
    ) -> ClaimT:
        """The claim with what the job needs from the database, in the claim's transaction."""

    @abstractmethod
    def streams(self, ctx: WorkerContext) -> TokenStreams | None:
        """Where tokens and events go; None for a job nobody watches live."""

    def deferred(self, ctx: WorkerContext, job_id: int) -> bool:
        """True when the job went back to its queue before it was even claimed."""
        return False

    def problem(self, claim: ClaimT) -> str | None:
        """Why the claimed job cannot run at all (the error it ends with), if it cannot."""
        return None

    @abstractmethod
    def prompt(self, ctx: WorkerContext, model: ChatModel, claim: ClaimT) -> PromptT:
        """The prompt; raises PromptTooLong when it does not fit."""

    @abstractmethod
    def finished(
        self, model: ChatModel, claim: ClaimT, prompt: PromptT, generated: Generated
    ) -> OutcomeT:
        """The outcome of a generation that ran (its figures are added by the runner)."""

    @abstractmethod
    def failure(self, error: str) -> OutcomeT: ...

    @abstractmethod
    def cancelled(self) -> OutcomeT: ...

    @abstractmethod
    def columns(self, outcome: OutcomeT, model_name: str) -> dict[str, Any]:
        """The final write's columns besides status, error, figures and completed_at."""

    def after_final_write(self, session: Session, claim: ClaimT) -> None:
        """More to write in the final write's transaction (once, by the attempt that stored)."""

    def after_stored(self, ctx: WorkerContext, claim: ClaimT) -> None:
        """What to note once the final state is stored, before it is announced."""

    @abstractmethod
    def usage_owner(self, claim: ClaimT) -> tuple[int, int | None]:
        """Whose tokens these are: the user and the API key (None: not through a key)."""

    @abstractmethod
    def kind(self, claim: ClaimT) -> str:
        """The metrics label: chat, batch or api."""


def claim_row(
    session: Session, ctx: WorkerContext, job: Job[ClaimT, Any, Any], job_id: int
) -> ClaimT | None:
    """Marks the row running and counts the attempt; None when nothing is left to do."""
    table = job.table
    row = session.execute(
        update(table)
        .where(table.id == job_id, table.status.in_(list(job.open_statuses)))
        .values(status=job.running, attempts=table.attempts + 1, **job.claim_values())
        .returning(table.attempts, *job.claim_columns),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if row is None:
        return None
    attempt, *columns = row
    return job.claimed(session, ctx, Claim(job_id, attempt), columns)


def run_job(
    ctx: WorkerContext, model: ChatModel, job: Job[ClaimT, PromptT, OutcomeT], job_id: int
) -> bool:
    """The whole job for one row; safe after a redelivery, a no-op while another holds its lease.
    False when this call did not take the job (another worker has it, or it was final)."""
    if job.deferred(ctx, job_id):
        return True  # it went back to its queue, with its own task
    ttl = ctx.settings.lease_ttl_s
    with leased(ctx.streams.client, job.lease_kind, job_id, ttl) as lease:
        if lease is None:
            logger.info("%s %s is running in another worker", job.noun, job_id)
            return False
        with ctx.db.session() as session:
            claim = claim_row(session, ctx, job, job_id)
        if claim is None:
            logger.info("%s %s is already final (or deleted); nothing to do", job.noun, job_id)
            forget_if_deleted(ctx, job.table, job.streams(ctx), job_id)
            return False
        streams = job.streams(ctx)
        if streams is not None and claim.attempt > 1:
            streams.append(job_id, "reset", attempt=claim.attempt)
        outcome = decide(ctx, model, job, claim, streams, abandoned=lease.lost)
        if lease.lost.is_set():  # the job was sent again: that attempt stores the outcome
            logger.warning("%s %s: lease lost, this attempt stored nothing", job.noun, job_id)
            return True
        stored = store_final(ctx, job, claim, outcome, model.name)
    if stored:
        observe_generation(job.kind(claim), outcome.status.value, outcome.completion_tokens,
                           outcome.time_to_first_token_ms, outcome.tokens_per_second)  # fmt: skip
    return True


def decide(
    ctx: WorkerContext,
    model: ChatModel,
    job: Job[ClaimT, PromptT, OutcomeT],
    claim: ClaimT,
    streams: TokenStreams | None,
    abandoned: threading.Event | None = None,
) -> OutcomeT:
    """Gives up, refuses, honours an early cancel, or generates (until done/cancelled/lost)."""
    attempts = ctx.settings.reply_attempts
    if claim.attempt > attempts:
        return job.failure(job.gave_up(attempts))
    problem = job.problem(claim)
    if problem is not None:
        return job.failure(problem)
    if streams is not None and streams.cancel_requested(claim.id):
        return job.cancelled()
    try:
        prompt = job.prompt(ctx, model, claim)
        generated = generate_text(
            model,
            prompt.tokens,
            prompt.stop,
            prompt.sampling,
            priority=prompt.priority,
            streams=streams,
            stream_id=claim.id,
            flush_interval_s=ctx.settings.stream_flush_ms / 1000,
            grammar=prompt.grammar,
            abandoned=abandoned,
            policy=prompt.policy,
            owner=job.usage_owner(claim)[0],
        )
        return replace(
            job.finished(model, claim, prompt, generated),
            prompt_tokens=len(prompt.tokens),
            completion_tokens=generated.completion_tokens,
            time_to_first_token_ms=generated.time_to_first_token_ms,
            tokens_per_second=generated.tokens_per_second,
        )
    except PromptTooLong as exc:
        return job.failure(str(exc))
    except Exception:
        logger.exception("generation failed for %s %s", job.noun, claim.id)
        return job.failure("generation failed in the worker")


def store_final(
    ctx: WorkerContext,
    job: Job[ClaimT, Any, OutcomeT],
    claim: ClaimT,
    outcome: OutcomeT,
    model_name: str,
) -> bool:
    """Writes the final state once, then announces it; a stale attempt does neither."""
    table = job.table
    with ctx.db.session() as session:
        result = session.execute(
            update(table)
            .where(
                table.id == claim.id,
                table.status == job.running,
                table.attempts == claim.attempt,
            )
            .values(
                status=outcome.status,
                error=outcome.error,
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
                time_to_first_token_ms=outcome.time_to_first_token_ms,
                tokens_per_second=outcome.tokens_per_second,
                completed_at=utcnow(),
                worker=ctx.worker_id,
                **job.columns(outcome, model_name),
            )
        )
        stored = bool(getattr(result, "rowcount", 0) == 1)
        if stored:
            job.after_final_write(session, claim)
            tokens = (outcome.prompt_tokens, outcome.completion_tokens)  # counted once, here
            owner = job.usage_owner(claim)
            record_usage(session, owner, job.kind(claim), claim.id, model_name, tokens)
            audit.record_blocks(session, owner[0], job.noun, claim.id, outcome.blocked)
    if not stored:
        forget_if_deleted(ctx, job.table, job.streams(ctx), claim.id)
        return False
    job.after_stored(ctx, claim)
    streams = job.streams(ctx)
    if streams is not None:
        fields: dict[str, Any] = {"status": outcome.status.value}
        fields.update((name, getattr(outcome, name)) for name in job.event_fields)
        if outcome.error:
            fields["error"] = outcome.error
        streams.append(claim.id, FINAL_EVENTS.get(outcome.status.value, "error"), **fields)
        streams.clear_cancel(claim.id)
    return True
