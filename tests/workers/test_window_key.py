"""Where a long chat's window starts (`qc:window:{chat}`), on real Redis: reading it keeps it, so
a chat in use never loses its start to the key's expiry and pays one more move."""

from __future__ import annotations

import redis as redis_lib

from app.redis_keys import window_key
from workers.inference.chat_job import WINDOW_TTL_S, keep_window, kept_window

CHAT = 987_654_321  # no chat of another test


def test_reading_a_chats_window_start_keeps_it_another_day(redis: redis_lib.Redis) -> None:
    key = window_key(CHAT)
    try:
        keep_window(redis, CHAT, 42)
        assert 0 < redis.ttl(key) <= WINDOW_TTL_S
        redis.expire(key, 60)  # as if it had been set 23 hours and 59 minutes ago
        assert kept_window(redis, CHAT) == 42
        assert redis.ttl(key) > WINDOW_TTL_S - 60  # the read gave it another day
        keep_window(redis, CHAT, None)  # the chat fits whole again: nothing is kept
        assert redis.exists(key) == 0
        assert kept_window(redis, CHAT) is None
    finally:
        redis.delete(key)


def test_a_window_start_that_is_not_a_number_is_unknown(redis: redis_lib.Redis) -> None:
    key = window_key(CHAT)
    try:
        redis.set(key, "not a message id")
        assert kept_window(redis, CHAT) is None
    finally:
        redis.delete(key)
