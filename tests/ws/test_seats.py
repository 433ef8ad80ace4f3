"""Socket caps across web processes, on a real Redis: two registries (two processes) share the
per-address and per-account caps, a closed socket frees its seat at once, and the seats of a
process that died lapse on their own while a live process's are renewed."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass

import redis as redis_lib

from app.enums import Role
from app.ws.connection import SocketUser
from app.ws.registry import SocketRegistry
from app.ws.seats import SEAT_LEASE_S, Seats, account_key, address_key

_ids = itertools.count(1)


@dataclass
class Sock:
    """Stands in for a socket: what the registry reads of one."""

    address: str
    id: int = 0
    user: SocketUser | None = None

    def __post_init__(self) -> None:
        self.id = next(_ids)


def process(client: redis_lib.Redis, cap: int = 3) -> SocketRegistry:
    return SocketRegistry(cap, cap, Seats(client))


def someone(user_id: int) -> SocketUser:
    return SocketUser(user_id, Role.USER, frozenset({"jti"}), time.time() + 600)


def test_two_processes_share_the_address_cap(redis: redis_lib.Redis) -> None:
    first, second = process(redis), process(redis)
    address = f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}-{uuid.uuid4().hex}"
    held = [Sock(address) for _ in range(2)]
    assert all(first.admit(s) for s in held)  # type: ignore[arg-type]
    assert second.admit(Sock(address))  # type: ignore[arg-type]
    assert not second.admit(Sock(address))  # type: ignore[arg-type]  # 3 open, in two processes
    first.forget(held[0])  # type: ignore[arg-type]
    assert second.admit(Sock(address))  # type: ignore[arg-type]
    assert redis.zcard(address_key(address)) == 3


def test_two_processes_share_the_account_cap(redis: redis_lib.Redis) -> None:
    first, second = process(redis), process(redis)
    user = someone(800_000_000 + uuid.uuid4().int % 1_000_000)
    socks = [Sock(f"a-{uuid.uuid4().hex}") for _ in range(4)]
    for registry, sock in zip((first, first, second, second), socks, strict=True):
        assert registry.admit(sock)  # type: ignore[arg-type]
    assert first.sign_in(socks[0], user) and first.sign_in(socks[1], user)  # type: ignore[arg-type]
    assert second.sign_in(socks[2], user)  # type: ignore[arg-type]
    assert not second.sign_in(socks[3], user)  # type: ignore[arg-type]
    second.forget(socks[2])  # type: ignore[arg-type]  # its account seat goes with it
    assert second.sign_in(socks[3], user)  # type: ignore[arg-type]
    assert redis.zcard(account_key(user.user_id)) == 3


def test_a_dead_processs_seats_lapse_and_a_live_ones_are_renewed(redis: redis_lib.Redis) -> None:
    dead, live = process(redis), process(redis)
    address = f"dead-{uuid.uuid4().hex}"
    for _ in range(3):
        assert dead.admit(Sock(address))  # type: ignore[arg-type]
    assert not live.admit(Sock(address))  # type: ignore[arg-type]
    # the dead process never renews: its leases run out (the clock moved on: the narrow fake)
    members: list[bytes] = redis.zrange(address_key(address), 0, -1)  # type: ignore[assignment]
    redis.zadd(address_key(address), dict.fromkeys(members, 1.0), xx=True)
    kept = Sock(address)
    assert live.admit(kept)  # type: ignore[arg-type]
    assert redis.zcard(address_key(address)) == 1  # the lapsed seats were pruned
    before = redis.zscore(address_key(address), live.seats.member(kept.id))  # type: ignore[union-attr]
    time.sleep(0.05)
    live.renew_seats()
    after = redis.zscore(address_key(address), live.seats.member(kept.id))  # type: ignore[union-attr]
    assert before is not None and after is not None and after > before
    assert after <= time.time() + SEAT_LEASE_S + 5
