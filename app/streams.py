"""The token-stream protocol on Redis: one stream per assistant message.

Workers append events; the WebSocket relay reads them. Each event is a small JSON
object with a ``type``; the Redis stream entry id is the event id clients resume from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis

from app.config import Settings
from app.redis_keys import CANCEL_PREFIX, ITEM_NAMESPACE, STREAM_PREFIX

FINAL_EVENT_TYPES = frozenset({"done", "error", "cancelled"})
EVENT_TYPES = frozenset({"token", "reset"}) | FINAL_EVENT_TYPES


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
        """Append one event; final events start the stream's expiry clock."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown stream event type {event_type!r}")
        key = self.stream_key(message_id)
        ttl = self.final_ttl_s if event_type in FINAL_EVENT_TYPES else self.live_ttl_s
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(key, encode(event_type, fields))  # type: ignore[arg-type]
        pipe.expire(key, ttl)
        entry_id, _ = pipe.execute()
        return _text(entry_id)

    def append_tokens(self, message_id: int, texts: list[str]) -> bool:
        """The hot path: appends tokens and says, in the same round trip, if cancel was asked."""
        key = self.stream_key(message_id)
        pipe = self.client.pipeline(transaction=False)
        for text in texts:
            pipe.xadd(key, encode("token", {"text": text}))  # type: ignore[arg-type]
        # plain EXPIRE (no NX, a Redis 7 option): the bundled redis-server of the embedded
        # mode is 6.2, and each flush pushing the live TTL on is what a long reply needs anyway
        pipe.expire(key, self.live_ttl_s)
        pipe.exists(self._cancel_key(message_id))
        return bool(pipe.execute()[-1])

    def read(
        self, message_id: int, after: str = "0-0", *, block_ms: int | None = None
    ) -> list[StreamEvent]:
        """Events strictly after ``after``; blocks up to block_ms for new ones."""
        response: Any = self.client.xread({self.stream_key(message_id): after}, block=block_ms)
        return [event for _key, entries in response or [] for event in _events(entries)]

    def read_many(
        self, after: dict[int, str], *, block_ms: int, count: int, wake: tuple[str, str]
    ) -> tuple[dict[int, list[StreamEvent]], str | None]:
        """One XREAD over many messages' streams, each after its own id, and over a wake-up
        stream (key, last id seen): the events by message, and the wake stream's newest id."""
        keys = {self.stream_key(message_id): message_id for message_id in after}
        positions: dict[str, str] = {key: after[message_id] for key, message_id in keys.items()}
        positions[wake[0]] = wake[1]
        response: Any = self.client.xread(positions, block=block_ms, count=count)  # type: ignore[arg-type]
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
        return self._cancel_key(message_id)

    def cancel_requested(self, message_id: int) -> bool:
        return bool(self.client.exists(self._cancel_key(message_id)))

    def clear_cancel(self, message_id: int) -> None:
        self.client.delete(self._cancel_key(message_id))

    def delete(self, *message_ids: int) -> None:
        if message_ids:
            self.client.delete(*(self.stream_key(m) for m in message_ids))


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
