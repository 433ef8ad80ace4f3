"""The content policy itself: words, patterns, the classifier hook, overrides, a file that
changes (and one that breaks), and patterns that would backtrack without end."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from app.content_policy import PolicySource


def shouting(text: str, stage: str) -> str | None:
    """A classifier hook for the tests: flags text written in capitals."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and all(c.isupper() for c in letters):
        return f"shouting at {stage}"
    return None


def source_with(tmp_path: Path, policy: dict[str, object]) -> PolicySource:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return PolicySource(path)


def rewrite(path: Path, policy: dict[str, object]) -> None:
    path.write_text(json.dumps(policy))
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


def test_words_patterns_and_the_classifier(tmp_path: Path) -> None:
    source = source_with(
        tmp_path,
        {
            "words": ["secret plan", "Badword"],
            "patterns": [r"(?i)\bpassword\s*[:=]"],
            "classifier": "tests.test_content_policy:shouting",
            "apply_to": ["input", "output"],
        },
    )
    policy = source.for_template()
    assert policy.decide("the SECRET   plan", "input").blocked is False  # words match as written
    assert policy.decide("our Secret Plan is", "input").blocked
    assert policy.decide("badwords are fine", "input").blocked is False  # whole words only
    assert policy.decide("a badword here", "output").reason == "word list"
    assert policy.decide("Password = hunter2", "input").reason == "pattern"
    assert policy.decide("THIS IS VERY LOUD", "input").reason == "classifier: shouting at input"
    assert policy.decide("THIS IS VERY LOUD", "output", classify=False).blocked is False
    assert policy.decide("a badword here", "retrieval").blocked is False  # not applied there
    assert source.for_template("no such template") is policy


def test_a_template_override_replaces_only_the_fields_it_names(tmp_path: Path) -> None:
    source = source_with(
        tmp_path,
        {
            "words": ["forbidden"],
            "message": "global says no",
            "templates": {"kids": {"words": ["forbidden", "scary"], "message": "not for kids"}},
        },
    )
    kids = source.for_template("kids")
    assert kids.decide("a scary story", "input").blocked
    assert kids.message == "not for kids"
    assert source.for_template().decide("a scary story", "input").blocked is False
    assert source.for_template().message == "global says no"


def test_a_changed_file_is_read_again_and_a_broken_one_keeps_the_last(tmp_path: Path) -> None:
    source = source_with(tmp_path, {"words": ["alpha"]})
    assert source.for_template().decide("alpha", "input").blocked
    assert source.path is not None
    rewrite(source.path, {"words": ["beta"]})
    assert source.for_template().decide("alpha", "input").blocked is False
    assert source.for_template().decide("beta", "input").blocked
    rewrite(source.path, {"patterns": ["(unclosed"]})  # an editing mistake
    assert source.for_template().decide("beta", "input").blocked  # the last good one stays


@pytest.mark.parametrize(
    "policy",
    [
        {"patterns": ["(unclosed"]},
        {"words": [""]},
        {"classifier": "not a dotted path"},
        {"apply_to": ["everywhere"]},
        {"unknown_field": 1},
    ],
)
def test_a_broken_policy_is_refused_at_start(tmp_path: Path, policy: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        source_with(tmp_path, policy).for_template()


def test_no_file_configured_filters_nothing() -> None:
    policy = PolicySource(None).for_template()
    assert not policy.active and policy.decide("anything", "input").blocked is False


def test_a_pattern_that_backtracks_without_end_is_cut_off_and_blocks(tmp_path: Path) -> None:
    policy = source_with(tmp_path, {"patterns": [r"^(a|a)+$"]}).for_template()
    started = time.monotonic()
    decision = policy.decide("a" * 40 + "b", "input")
    assert decision.blocked and decision.reason == "pattern timed out"
    assert time.monotonic() - started < 5
