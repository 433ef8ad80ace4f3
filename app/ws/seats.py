"""Socket caps that hold across web processes and machines: every open socket takes a seat in
a Redis sorted set per address and, once authenticated, per account. A seat is a lease (its
score is when it lapses, on Redis's clock) that the socket's process renews while the socket
is open, so the seats of a process that died free themselves within SEAT_LEASE_S. Taking a seat
is one script: prune the lapsed, count, add if under the cap."""

from __future__ import annotations

import logging
import uuid

import redis

from app.redis_keys import WS_SEATS_PREFIX

logger = logging.getLogger(__name__)
SEAT_LEASE_S = 60
RENEW_EVERY_S = SEAT_LEASE_S / 3
RENEW_BATCH = 500  # seats per script call

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""
_RENEW = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', until_, ARGV[i + 1])
  redis.call('EXPIRE', key, tonumber(ARGV[1]) * 2)
end
return #KEYS
"""


def address_key(address: str) -> str:
    return f"{WS_SEATS_PREFIX}addr:{address}"


def account_key(user_id: int) -> str:
    return f"{WS_SEATS_PREFIX}user:{user_id}"


class Seats:
    """One web process's seats. A Redis error lets the socket in (the process's own counts
    still cap it): sockets must keep working while Redis comes back."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.process = uuid.uuid4().hex[:12]
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)

    def member(self, connection_id: int) -> str:
        return f"{self.process}:{connection_id}"

    def take(self, key: str, connection_id: int, cap: int) -> bool:
        try:
            args: list[str | int] = [self.member(connection_id), cap, SEAT_LEASE_S]
            return bool(self._take(keys=[key], args=args))
        except redis.RedisError as exc:
            logger.warning("socket seats unavailable (%s): the process's own cap applies", exc)
            return True

    def release(self, seats: list[tuple[str, int]]) -> None:
        """(key, connection id) of each seat to give back."""
        if not seats:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, connection_id in seats:
                pipe.zrem(key, self.member(connection_id))
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("socket seats not released (%s): they lapse on their own", exc)

    def renew(self, seats: list[tuple[str, int]]) -> None:
        try:
            for start in range(0, len(seats), RENEW_BATCH):
                batch = seats[start : start + RENEW_BATCH]
                members = [self.member(connection_id) for _, connection_id in batch]
                self._renew(keys=[key for key, _ in batch], args=[SEAT_LEASE_S, *members])
        except redis.RedisError as exc:
            logger.warning("socket seats not renewed (%s)", exc)
