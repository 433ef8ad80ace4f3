"""A job's completion allowance from its user's token budget (reserved when it was queued)."""

from __future__ import annotations

from dataclasses import replace

from app.services.budgets import BUDGET_FINISH_REASON
from workers.inference.generation import Generated
from workers.inference.sampling import Sampling


def within_reserve(sampling: Sampling, reserved: int | None) -> tuple[Sampling, bool]:
    """The sampling with max_tokens lowered to the reserve; True when the budget lowered it."""
    if reserved is None or reserved >= sampling.max_tokens:
        return sampling, False
    return replace(sampling, max_tokens=max(1, reserved)), True


def finish_reason(generated: Generated, budget_capped: bool) -> str:
    """Why the generation ended; "budget" when it stopped at the budget's allowance."""
    if budget_capped and generated.finish_reason == "length":
        return BUDGET_FINISH_REASON
    return generated.finish_reason
