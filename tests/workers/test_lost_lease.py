"""A worker whose lease lapsed (starved, or cut off from Redis) while it generated: another
attempt may own the job now, so the stale one stops and writes nothing more."""

from __future__ import annotations

import threading
import time
import uuid

import redis as redis_lib

from app.config import Settings
from app.streams import TokenStreams
from testkit.processes import wait_until
from workers.inference.generation import Generated, generate_text
from workers.inference.model import Sampling, load_model
from workers.leases import Lease


def test_a_lease_taken_away_is_seen_as_lost(redis_url: str) -> None:
    client = redis_lib.Redis.from_url(redis_url)
    lease = Lease(client, f"test{uuid.uuid4().hex[:6]}", 1, 2.0)
    assert lease.acquire()
    client.set(lease.key, "another worker")  # the lease lapsed and someone else took it
    wait_until(lease.lost.is_set, timeout=5, what="the keeper to notice")
    lease.release()
    assert client.get(lease.key) == b"another worker", "the new holder's lease is left alone"


def test_an_abandoned_attempt_stops_and_stops_writing(settings: Settings, redis_url: str) -> None:
    model = load_model(settings.model_copy(update={"parallel_sequences": 1}))
    client = redis_lib.Redis.from_url(redis_url)
    streams = TokenStreams.for_settings(client, settings)
    stream_id = 10**9 + int(uuid.uuid4().int % 10**6)
    tokens, stop = model.encode([{"role": "user", "content": "Write a long story about a fox."}])
    abandoned = threading.Event()
    result: list[Generated] = []

    def attempt() -> None:
        result.append(
            generate_text(
                model,
                tokens,
                stop,
                Sampling(400, 0.0, 1.0, 1),
                streams=streams,
                stream_id=stream_id,
                flush_interval_s=0.05,
                abandoned=abandoned,
            )
        )

    thread = threading.Thread(target=attempt)
    thread.start()
    wait_until(lambda: len(streams.read(stream_id)) >= 3, timeout=60, what="tokens streaming")
    abandoned.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    written = len(streams.read(stream_id))
    time.sleep(0.5)
    assert len(streams.read(stream_id)) == written, "the stale attempt kept writing"
    assert result[0].ending == "cancelled" and result[0].completion_tokens < 400
    client.delete(streams.stream_key(stream_id))
