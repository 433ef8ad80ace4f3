"""The refusal helper every /v1 body goes through: unsupported parameters are named, never
silently defaulted; their "not used" values pass; unknown parameters are refused like OpenAI."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from app.errors import UnsupportedParameter
from app.schemas.openai_params import OpenAIBody, refuse_unsupported


class Example(OpenAIBody):
    UNSUPPORTED: ClassVar[dict[str, tuple[Any, ...]]] = {
        "n": (1,),
        "logprobs": (False,),
        "presence_penalty": (0,),
    }

    model: str
    temperature: float | None = None


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m"},
        {"model": "m", "n": 1, "logprobs": False, "presence_penalty": 0.0, "temperature": 0.5},
        {"model": "m", "n": None, "logprobs": None},
    ],
)
def test_not_used_values_pass(body: dict[str, Any]) -> None:
    refuse_unsupported(body, Example)
    assert Example.model_validate(body).model == "m"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "n": 2}, "n"),
        ({"model": "m", "logprobs": True}, "logprobs"),
        ({"model": "m", "logprobs": 0}, "logprobs"),  # 0 is not false: it asks for logprobs
        ({"model": "m", "presence_penalty": 0.5}, "presence_penalty"),
        ({"model": "m", "audio": {"voice": "x"}}, "audio"),  # not a parameter at all
    ],
)
def test_refusals_name_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedParameter) as refused:
        refuse_unsupported(body, Example, where="body.")
    assert refused.value.param == f"body.{param}"
    assert refused.value.status == 400
    assert f"body.{param}" in refused.value.message


def test_a_body_that_is_not_an_object_is_left_to_validation() -> None:
    refuse_unsupported(["not", "an", "object"], Example)
