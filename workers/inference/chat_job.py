"""Chat replies for the job runner: a Message row, its chat's history, template and knowledge."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import OPEN_STATUSES, MessageRole, MessageStatus
from app.models import ChatSession, Message
from app.redis_keys import window_key
from app.services.branches import ancestor_ids
from app.services.prompt_setup import PromptSetup, load_prompt_setup
from app.services.prompting import Turn, build_chat_messages
from app.streams import TokenStreams
from workers.context import WorkerContext
from workers.inference.budget import finish_reason, within_reserve
from workers.inference.generation import Generated
from workers.inference.model import ChatModel, Sampling
from workers.inference.presence import hold_chat
from workers.inference.runner import Claim, Job, Outcome, Prompt, store_final
from workers.retrieval import as_citations, as_context
from workers.vectors import Hit

logger = logging.getLogger(__name__)
# A chat that outgrew the context window drops this share of the window more than it must, so
# that its next turns fit after the same start and reuse what was evaluated (a move evaluates
# the whole window again: seconds on a CPU). The start is kept in Redis a day past its last use.
WINDOW_ROOM_SHARE = 4
WINDOW_TTL_S = 86400
Retriever = Callable[[str, int, bool], list[Hit]]  # question, chat, its knowledge base?


@dataclass(frozen=True)
class ReplyClaim(Claim):
    session_id: int
    sampling: Sampling
    setup: PromptSetup = field(default_factory=PromptSetup)
    history: list[Turn] = field(default_factory=list)
    owner_id: int = 0
    budget_capped: bool = False  # max_tokens lowered to what the user's budget has left


@dataclass(frozen=True)
class ReplyPrompt(Prompt):
    hits: list[Hit] = field(default_factory=list)  # the knowledge the prompt quotes
    withheld: list[dict[str, Any]] = field(default_factory=list)  # chunks the policy kept out


@dataclass
class ReplyOutcome(Outcome[MessageStatus]):
    content: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None


class ChatReplyJob(Job[ReplyClaim, ReplyPrompt, ReplyOutcome]):
    table = Message
    open_statuses = OPEN_STATUSES
    running = MessageStatus.GENERATING
    noun = "message"
    lease_kind = "reply"
    claim_columns = (
        Message.session_id,
        Message.sampling,
        Message.use_knowledge_base,
        Message.reserved_tokens,
    )
    event_fields = (
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "time_to_first_token_ms",
        "tokens_per_second",
        "citations",
    )

    def __init__(self, retriever: Retriever | None = None) -> None:
        self.retriever = retriever

    def gave_up(self, attempts: int) -> str:
        return f"the reply failed after {attempts} attempts"

    def claimed(
        self, session: Session, ctx: WorkerContext, claim: Claim, columns: Sequence[Any]
    ) -> ReplyClaim:
        session_id, stored_sampling, use_knowledge_base, reserved = columns
        settings = ctx.settings
        defaults = Sampling(
            settings.default_max_tokens, settings.default_temperature, settings.default_top_p
        )
        sampling, capped = within_reserve(
            Sampling.from_params(stored_sampling or {}, defaults), reserved
        )
        setup = load_prompt_setup(session, session_id, use_knowledge_base)
        history = load_history(session, session_id, claim.id, settings.n_ctx // 2)
        owner_id = session.scalar(select(ChatSession.owner_id).where(ChatSession.id == session_id))
        return ReplyClaim(
            claim.id,
            claim.attempt,
            session_id,
            sampling,
            setup,
            history,
            owner_id=int(owner_id or 0),
            budget_capped=capped,
        )

    def streams(self, ctx: WorkerContext) -> TokenStreams:
        return ctx.streams

    def prompt(self, ctx: WorkerContext, model: ChatModel, claim: ReplyClaim) -> ReplyPrompt:
        sampling, setup, history = claim.sampling, claim.setup, claim.history
        policy = ctx.content_policy.for_template(setup.template_name)
        retriever, question = self.retriever, history[-1].content
        hits = retriever(question, claim.session_id, setup.use_knowledge_base) if retriever else []
        decisions = [(hit, policy.check(hit.chunk.text, "retrieval")) for hit in hits]
        hits = [hit for hit, decision in decisions if not decision.blocked]
        withheld = Counter(decision.reason for _, decision in decisions if decision.blocked)
        hits = within_budget(model, hits, ctx.settings.rag_context_tokens)
        ids = [turn.id for turn in history]
        kept_id = kept_window(ctx.streams.client, claim.session_id)
        room = sampling.max_tokens + model.n_ctx // WINDOW_ROOM_SHARE
        built = build_chat_messages(
            history,
            fits=lambda candidate: model.fits(candidate, sampling.max_tokens),
            system_prompt=setup.system_prompt,
            examples=setup.examples,
            context=as_context(hits),
            kept_from=ids.index(kept_id) if kept_id in ids else None,
            roomy=lambda candidate: model.fits(candidate, room),
        )
        start_id = ids[built.first_turn] if built.first_turn else None  # None: from the first
        if start_id != kept_id:
            keep_window(ctx.streams.client, claim.session_id, start_id)
        tokens, stop = model.encode(built.messages)
        template = setup.template_name
        return ReplyPrompt(
            tokens, stop, sampling, policy=policy, hits=hits[: built.context_used],
            withheld=[{"stage": "retrieval", "rule": rule, "chunks": count, "template": template}
                      for rule, count in withheld.items()],
        )  # fmt: skip

    def finished(
        self, model: ChatModel, claim: ReplyClaim, prompt: ReplyPrompt, generated: Generated
    ) -> ReplyOutcome:
        if generated.ending == "filtered":  # the text is withheld: neither stored nor streamed
            message = prompt.policy.message if prompt.policy else "filtered"
            output = {"stage": "output", "rule": generated.blocked_rule,
                      "template": claim.setup.template_name}  # fmt: skip
            return ReplyOutcome(
                MessageStatus.FILTERED, error=message, blocked=[*prompt.withheld, output]
            )
        cancelled = generated.ending == "cancelled"
        return ReplyOutcome(
            MessageStatus.CANCELLED if cancelled else MessageStatus.DONE,
            content=generated.text,
            citations=as_citations(prompt.hits),
            finish_reason=finish_reason(generated, claim.budget_capped),
            blocked=prompt.withheld,
        )

    def failure(self, error: str) -> ReplyOutcome:
        return ReplyOutcome(MessageStatus.ERROR, error=error)

    def cancelled(self) -> ReplyOutcome:
        return ReplyOutcome(MessageStatus.CANCELLED)

    def columns(self, outcome: ReplyOutcome, model_name: str) -> dict[str, Any]:
        return {
            "content": outcome.content,
            "citations": outcome.citations,
            "model_name": model_name,
            "finish_reason": outcome.finish_reason,
        }

    def kind(self, claim: ReplyClaim) -> str:
        return "chat"

    def after_stored(self, ctx: WorkerContext, claim: ReplyClaim) -> None:
        """The chat's tokens stay in this worker's cache: its next turn is routed here."""
        try:
            hold_chat(ctx.streams.client, ctx.worker_id, claim.session_id)
        except redis.RedisError:
            logger.warning("could not note that this worker holds chat %s", claim.session_id)

    def usage_owner(self, claim: ReplyClaim) -> tuple[int, int | None]:
        return claim.owner_id, None


def kept_window(client: redis.Redis, session_id: int) -> int | None:
    """The message the chat's previous prompt started at (None: unknown); reading it keeps it
    another WINDOW_TTL_S (a chat in use never loses its start)."""
    try:
        found = client.getex(window_key(session_id), ex=WINDOW_TTL_S)
    except redis.RedisError:
        logger.warning("could not read where chat %s's window starts", session_id)
        return None
    try:
        return int(found) if found else None
    except ValueError:  # not a value this code wrote: unknown
        return None


def keep_window(client: redis.Redis, session_id: int, message_id: int | None) -> None:
    """Notes where the chat's prompt starts now (None: at its first message)."""
    try:
        if message_id is None:
            client.delete(window_key(session_id))
        else:
            client.set(window_key(session_id), message_id, ex=WINDOW_TTL_S)
    except redis.RedisError:
        logger.warning("could not note where chat %s's window starts", session_id)


def load_history(session: Session, session_id: int, message_id: int, newest: int) -> list[Turn]:
    """The newest turns of the reply's branch before it (user turns and finished replies),
    oldest first.

    ``newest`` bounds what is read: every turn costs the template a few tokens, so no more than
    half the context window's turns can ever fit; a long chat is not read whole for each reply.
    """
    kept = (Message.role == MessageRole.USER) | (Message.status == MessageStatus.DONE)
    branch = ancestor_ids(session, message_id, depth=newest)
    rows = session.execute(
        select(Message.role, Message.content, Message.id)
        .where(Message.id.in_(branch[:-1]), Message.session_id == session_id, kept)
        .order_by(Message.id)
    ).all()
    return [Turn(role, content, message_id) for role, content, message_id in rows]


def within_budget(model: ChatModel, hits: list[Hit], budget_tokens: int) -> list[Hit]:
    """The best hits whose text fits the context budget (RAG_CONTEXT_TOKENS), in rank order."""
    kept: list[Hit] = []
    for hit in hits:
        budget_tokens -= len(model.tokenize_text(hit.chunk.text))
        if budget_tokens < 0:
            break
        kept.append(hit)
    return kept


def store_reply(
    ctx: WorkerContext, claim: ReplyClaim, outcome: ReplyOutcome, model_name: str
) -> bool:
    """Writes a reply's final state once and announces it; a stale attempt does neither."""
    return store_final(ctx, ChatReplyJob(), claim, outcome, model_name)
