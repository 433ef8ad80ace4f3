from __future__ import annotations

import pytest

from app.prompting import DEFAULT_SYSTEM_PROMPT, PromptTooLong, Turn, build_chat_messages

HISTORY = [
    Turn("user", "one"),
    Turn("assistant", "reply one"),
    Turn("user", "two"),
    Turn("assistant", "reply two"),
    Turn("user", "three"),
]


def chars_fit(limit: int):  # type: ignore[no-untyped-def]
    return lambda messages: sum(len(m["content"]) for m in messages) <= limit


def test_everything_fits() -> None:
    messages = build_chat_messages(HISTORY, fits=chars_fit(10_000))
    assert messages == [
        {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "reply one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "reply two"},
        {"role": "user", "content": "three"},
    ]


def test_oldest_exchanges_are_dropped_first_and_kept_history_starts_with_user() -> None:
    budget = len(DEFAULT_SYSTEM_PROMPT) + len("two") + len("reply two") + len("three")
    messages = build_chat_messages(HISTORY, fits=chars_fit(budget))
    assert [m["content"] for m in messages] == [DEFAULT_SYSTEM_PROMPT, "two", "reply two", "three"]
    tight = build_chat_messages(HISTORY, fits=chars_fit(len(DEFAULT_SYSTEM_PROMPT) + 5))
    assert [m["content"] for m in tight] == [DEFAULT_SYSTEM_PROMPT, "three"]


def test_too_long_and_malformed_history() -> None:
    with pytest.raises(PromptTooLong):
        build_chat_messages(HISTORY, fits=chars_fit(3))
    with pytest.raises(ValueError):
        build_chat_messages(HISTORY[:-1], fits=chars_fit(10_000))


def test_custom_system_prompt() -> None:
    messages = build_chat_messages(
        [Turn("user", "hi")], fits=chars_fit(100), system_prompt="Be brief."
    )
    assert messages[0] == {"role": "system", "content": "Be brief."}
