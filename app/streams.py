"""The token-stream protocol on Redis: one stream per assistant message.

Workers append events; the WebSocket relay reads them. Each event is a small JSON
object with a ``type``; the Redis stream entry id is the event id clients resume from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import redis

from app.config import Settings
from app.redis_keys import CANCEL_PREFIX, ITEM_NAMESPACE, STREAM_PREFIX, db_channel
from app.stream_scripts import APPEND_FINAL, APPEND_TOKENS, FINAL_EVENT_TYPES

EVENT_TYPES = frozenset({"token", "reset"}) | FINAL_EVENT_TYPES
GATHER_STEP_S = 0.0005  # a gathering read looks again this often


@dataclass(frozen=True)
class StreamEvent:
    id: str
    type: str
    raw: str  # the event's JSON object, as the worker wrote it

    @property
    def data(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed

    @property
    def is_final(self) -> bool:
        return self.type in FINAL_EVENT_TYPES

    def as_frame(self, message_id: int) -> str:
        """The client frame: the event plus its id and message id, spliced without re-parsing."""
        return f'{self.raw[:-1]},"id":"{self.id}","message_id":{message_id}}}'


def encode(event_type: str, fields: dict[str, Any]) -> dict[str, str]:
    payload = json.dumps({"type": event_type, **fields}, separators=(",", ":"))
    return {"type": event_type, "data": payload}


class TokenStreams:
    """Writes and reads message streams; used by workers and by the relay alike."""

    def __init__(
        self, client: redis.Redis, *, final_ttl_s: int, live_ttl_s: int, namespace: str = ""
    ) -> None:
        """``namespace`` keeps other id spaces apart (API completions use "item:")."""
        self.client = client
        self.final_ttl_s = final_ttl_s
        self.live_ttl_s = live_ttl_s
        self.namespace = namespace
        self._append_tokens = client.register_script(APPEND_TOKENS)
        self._append_final = client.register_script(APPEND_FINAL)

    @classmethod
    def for_settings(
        cls, client: redis.Redis, settings: Settings, namespace: str = ""
    ) -> TokenStreams:
        """The one way streams are made: TTLs from the settings."""
        return cls(
            client,
            final_ttl_s=settings.stream_ttl_s,
            live_ttl_s=settings.stream_live_ttl_s,
            namespace=namespace,
        )

    @classmethod
    def for_completions(cls, client: redis.Redis, settings: Settings) -> TokenStreams:
        """Streams of OpenAI API completions (their ids are batch item ids)."""
        return cls.for_settings(client, settings, ITEM_NAMESPACE)

    def stream_key(self, message_id: int) -> str:
        return f"{STREAM_PREFIX}{self.namespace}{message_id}"

    def _cancel_key(self, message_id: int) -> str:
        return f"{CANCEL_PREFIX}{self.namespace}{message_id}"

    def append(self, message_id: int, event_type: str, **fields: Any) -> str:
        """Append one event; final events start the stream's expiry clock.

        A final event is never appended after another: the client's retry of a write whose
        reply a Redis restart lost cannot put a second one in the stream."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown stream event type {event_type!r}")
        key = self.stream_key(message_id)
        event = encode(event_type, fields)
        if event_type in FINAL_EVENT_TYPES:
            found = self._append_final(
                keys=[key], args=[self.final_ttl_s, event["type"], event["data"]]
            )
            return _text(found)
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(key, event)  # type: ignore[arg-type]
        pipe.expire(key, self.live_ttl_s)
        entry_id, _ = pipe.execute()
        return _text(entry_id)

    def append_tokens(
        self, message_id: int, texts: list[str], *, marker: str = "", reset: bool = False
    ) -> bool:
        """The hot path: appends tokens (after a "reset" when ``reset``) and says, in the same
        round trip, if cancel was asked.

        ``marker``, unique to this write, makes it idempotent: a client that sends it again
        (redis-py retries a command whose connection broke, and Redis may have run the first
        send before a restart lost its reply) finds its marker on the stream's last entry and
        appends nothing twice."""
        write = self.token_write(message_id, texts, marker=marker, reset=reset)
        return self.append_many([write])[0]

    def token_write(
        self, message_id: int, texts: list[str], *, marker: str = "", reset: bool = False
    ) -> TokenWrite:
        """``append_tokens``'s write, to run with other replies' (``append_many``)."""
        events = [encode("reset", {})] if reset else []
        events += [encode("token", {"text": text}) for text in texts]
        # plain EXPIRE (no NX, a Redis 7 option): the bundled redis-server of the embedded
        # mode is 6.2, and each flush pushing the live TTL on is what a long reply needs anyway
        args: list[str | int] = [self.live_ttl_s, marker, len(events)]
        for event in events:
            args += [event["type"], event["data"]]
        keys = [self.stream_key(message_id), self._cancel_key(message_id)]
        return TokenWrite(self, keys, args)

    def append_many(self, writes: list[TokenWrite]) -> list[bool]:
        """Runs ``writes`` (of streams on this client) in one script call, one round trip: for
        each, whether its reply's cancel was asked. Raises what Redis raised (a lost connection:
        none of them is known to have run; each write's marker makes its retry safe)."""
        keys = [key for write in writes for key in write.keys]
        args = [arg for write in writes for arg in write.args]
        flags: list[int] = self._append_tokens(keys=keys, args=args)
        return [bool(flag) for flag in flags]

    def read(
        self, message_id: int, after: str = "0-0", *, block_ms: int | None = None
    ) -> list[StreamEvent]:
        """Events strictly after ``after``; blocks up to block_ms for new ones."""
        response: Any = self.client.xread({self.stream_key(message_id): after}, block=block_ms)
        return [event for _key, entries in response or [] for event in _events(entries)]

    def read_many(
        self,
        after: dict[int, str],
        *,
        block_ms: int | None,
        count: int,
        wake: tuple[str, str],
        gather_s: float = 0.0,
        expect: Collection[int] = (),
        written_ms: int = 0,
    ) -> tuple[dict[int, list[StreamEvent]], str | None]:
        """One XREAD over many messages' streams, each after its own id, and over a wake-up
        stream (key, last id seen): the events by message, and the wake stream's newest id.
        ``gather_s``: once events came, what the other streams get within that time comes
        with them (XREADs every GATHER_STEP_S, not blocking), so a burst is fanned out in one
        pass; the gathering ends as soon as every stream in ``expect`` (the replies streaming:
        an engine step writes to each) has brought events. ``written_ms``: a stream whose
        last event (its ``after`` id, on Redis's clock) is less than that older than the
        burst read (the newest of the streams' first events: a stream read from further back,
        a new subscriber's, does not date it) wrote in this burst already (the previous read
        had it) and is not waited for; when none is left to wait for, the read returns at once.
        With two replies or more streaming, the gathering's first look, at once, goes in the
        same round trip as the blocking read (``_read_many``'s ``look_again``)."""
        expected = set(expect) & after.keys() if gather_s > 0 else set()
        look_again = block_ms is not None and len(expected) > 1
        found, woken = self._read_many(after, block_ms, count, wake, look_again=look_again)
        if not found or gather_s <= 0:
            return found, woken
        if expected and written_ms > 0:
            burst = max(_id_ms(events[0].id) for events in found.values())
            expected = {m for m in expected if _id_ms(after[m]) <= burst - written_ms}
            if not expected:
                return found, woken
        deadline, pause = time.monotonic() + gather_s, GATHER_STEP_S if look_again else 0.0
        while not (expected and expected <= found.keys()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # the first look is at once (unless it went with the blocking read): Redis wakes a
            # read with the first stream a command wrote, but answers it after that command,
            # so a worker's flush (one command for all its replies) is all there already
            if pause:
                time.sleep(min(pause, left))
            pause = GATHER_STEP_S
            later = {m: found[m][-1].id if m in found else at for m, at in after.items()}
            for message_id, events in self._read_many(later, None, count, wake)[0].items():
                found.setdefault(message_id, []).extend(events)
        return found, woken

    def _read_many(
        self,
        after: dict[int, str],
        block_ms: int | None,
        count: int,
        wake: tuple[str, str],
        *,
        look_again: bool = False,
    ) -> tuple[dict[int, list[StreamEvent]], str | None]:
        """``look_again``: a non-blocking XREAD from the same positions follows the blocking
        one in the same round trip. Redis before 7.2 answers a woken XREAD with only the
        stream that woke it; the second read, which it runs as soon as it has answered the
        first, brings every stream the waking command wrote (a worker's flush writes all its
        replies in one). Each stream's entries are then the second read's, which start where
        the first's do and hold them."""
        keys = {self.stream_key(message_id): message_id for message_id in after}
        positions: dict[str, str] = {key: after[message_id] for key, message_id in keys.items()}
        positions[wake[0]] = wake[1]
        response: Any
        if look_again:
            pipe = self.client.pipeline(transaction=False)
            pipe.xread(positions, block=block_ms, count=count)  # type: ignore[arg-type]
            pipe.xread(positions, count=count)  # type: ignore[arg-type]
            first, second = pipe.execute()
            response = {**dict(first or []), **dict(second or [])}.items()
        else:
            response = self.client.xread(positions, block=block_ms, count=count)  # type: ignore[arg-type]
        found: dict[int, list[StreamEvent]] = {}
        woken: str | None = None
        for key, entries in response or []:
            name = _text(key)
            if name == wake[0]:
                woken = _text(entries[-1][0])
            elif name in keys:
                found[keys[name]] = _events(entries)
        return found, woken

    def exists(self, message_id: int) -> bool:
        return bool(self.client.exists(self.stream_key(message_id)))

    def request_cancel(self, message_id: int) -> None:
        """A durable flag (for a reply not started yet) and a message for a worker generating."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._cancel_key(message_id), "1", ex=self.live_ttl_s)
        pipe.publish(self.cancel_channel(message_id), "cancel")
        pipe.execute()

    def cancel_channel(self, message_id: int) -> str:
        return db_channel(self.client, self._cancel_key(message_id))

    def cancel_requested(self, message_id: int) -> bool:
        return bool(self.client.exists(self._cancel_key(message_id)))

    def clear_cancel(self, message_id: int) -> None:
        self.client.delete(self._cancel_key(message_id))

    def delete(self, *message_ids: int) -> None:
        if message_ids:
            self.client.delete(*(self.stream_key(m) for m in message_ids))


@dataclass(frozen=True)
class TokenWrite:
    """One reply's ``append_tokens``, ready to run (alone or with others: ``append_many``)."""

    streams: TokenStreams
    keys: list[str]
    args: list[str | int]


def _events(entries: Any) -> list[StreamEvent]:
    return [
        StreamEvent(_text(entry_id), _text(fields[b"type"]), _text(fields[b"data"]))
        for entry_id, fields in entries
    ]


def event_order(event_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence), not as text."""
    millis, _, sequence = event_id.partition("-")
    return int(millis), int(sequence or 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_ms(entry_id: str) -> int:
    """The milliseconds part of a stream entry id: when Redis added it, on Redis's clock."""
    return int(entry_id.split("-", 1)[0])
