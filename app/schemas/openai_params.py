"""Honest refusals for OpenAI request bodies: a parameter this server does not implement is a
400 that names it (OpenAI clients read ``error.param``), never a silent default; a parameter
OpenAI does not have either is refused as OpenAI refuses it ("unrecognized request argument").

A body model lists, in ``UNSUPPORTED``, each parameter it refuses with the values that mean
"not used" (``n: 1``, ``logprobs: false``): those pass, since they ask for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from app.errors import UnsupportedParameter
from app.schemas.common import Input


class OpenAIBody(Input):
    """A request body of the OpenAI-compatible API, checked by ``refuse_unsupported`` first."""

    # refused parameters set to "not used" pass; the spec lists only the parameters that work
    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})

    UNSUPPORTED: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    REFUSE_UNKNOWN: ClassVar[bool] = True

    @classmethod
    def refuse_forms(cls, data: dict[str, Any], where: str) -> None:
        """Refuses a supported parameter in a form the server does not implement (a prompt
        given as token ids) with UnsupportedParameter; nothing by default."""


def _same(value: Any, neutral: Any) -> bool:
    """Equal as JSON values: ``false`` is not ``0``, ``1.0`` is ``1``."""
    return isinstance(value, bool) == isinstance(neutral, bool) and value == neutral


def _shown(values: tuple[Any, ...]) -> str:
    shown = (json.dumps(v) for v in values)
    return ", ".join(["null", *shown])


def refuse_unsupported(data: Any, model: type[BaseModel], where: str = "") -> None:
    """Raises UnsupportedParameter for the first parameter of ``data`` the server cannot honour.

    ``where`` prefixes the parameter's name (a batch line's ``body.``).
    """
    if not isinstance(data, dict):
        return  # the model's validation says what is wrong with it
    unsupported: Mapping[str, tuple[Any, ...]] = getattr(model, "UNSUPPORTED", {})
    refuse_unknown = bool(getattr(model, "REFUSE_UNKNOWN", True))
    known = set(model.model_fields) | {
        field.alias for field in model.model_fields.values() if field.alias
    }
    for name, value in data.items():
        if name in unsupported:
            neutral = unsupported[name]
            if value is None or any(_same(value, n) for n in neutral):
                continue
            raise UnsupportedParameter(
                f"{where}{name} is not supported by this server (accepted values: "
                f"{_shown(neutral)})",
                param=f"{where}{name}",
            )
        if refuse_unknown and name not in known:
            raise UnsupportedParameter(
                f"unrecognized request argument supplied: {where}{name}", param=f"{where}{name}"
            )
    refuse_forms = getattr(model, "refuse_forms", None)
    if refuse_forms is not None:
        refuse_forms(data, where)
