"""Embeddings for the OpenAI API: the ingest workers hold the model, so the texts go to them as
a job and the vectors come back on a Redis list the request waits on."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError

from app.config import Settings
from app.errors import GatewayTimeout, GenerationFailed, InvalidInput, ServiceUnavailable
from app.redis_keys import embed_result_key
from app.resources import Resources

MAX_EMBED_INPUTS = 256


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    prompt_tokens: int


def check_texts(settings: Settings, texts: list[str]) -> None:
    """The bounds of one embeddings request (a /v1/embeddings call or a Batch API line)."""
    if not texts or len(texts) > MAX_EMBED_INPUTS:
        raise InvalidInput(f"input must hold 1 to {MAX_EMBED_INPUTS} texts")
    limit = settings.max_message_chars
    if any(not text or len(text) > limit for text in texts):
        raise InvalidInput(f"each input must have 1 to {limit} characters")
    total = settings.max_embed_chars
    if sum(len(text) for text in texts) > total:
        raise InvalidInput(f"the inputs may hold {total} characters in all")


def embed(res: Resources, texts: list[str]) -> Embeddings:
    """One round trip through an ingest worker; 504 when none answers in time."""
    check_texts(res.settings, texts)
    request_id = uuid.uuid4().hex
    try:
        res.jobs.enqueue_embedding(request_id, texts)
        found = res.redis.blpop(
            [embed_result_key(request_id)], timeout=res.settings.embed_timeout_s
        )
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("the job queue is unavailable; try again shortly") from exc
    if found is None:
        raise GatewayTimeout("no ingest worker answered in time; is one running?")
    result = json.loads(found[1])
    if "error" in result:
        raise GenerationFailed(result["error"])
    return Embeddings(vectors=result["vectors"], prompt_tokens=int(result["prompt_tokens"]))
