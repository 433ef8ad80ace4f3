"""The sampling knobs of one reply, as stored with its row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Sampling:
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], defaults: Sampling | None = None) -> Sampling:
        """The sampling stored with a row as JSON; knobs it lacks come from ``defaults``."""
        merged = {**(asdict(defaults) if defaults else {}), **params}
        return cls(
            max_tokens=int(merged["max_tokens"]),
            temperature=float(merged["temperature"]),
            top_p=float(merged["top_p"]),
            seed=merged.get("seed"),
        )
