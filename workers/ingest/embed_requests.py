"""Embeddings for the OpenAI-compatible API: the ingest workers hold the model, so /v1/embeddings
sends them the texts and waits for the vectors on a Redis list."""

from __future__ import annotations

import json
import logging

from app.jobs import EMBED_TEXTS
from app.redis_keys import embed_result_key
from workers import celery
from workers.context import get_context
from workers.ingest.embedder import get_embedder

logger = logging.getLogger(__name__)
RESULT_TTL_S = 120


@celery.task(name=EMBED_TEXTS)
def embed_texts(request_id: str, texts: list[str]) -> None:
    client = get_context().streams.client
    try:
        embedder = get_embedder()
        vectors = embedder.encode(texts)
        encoded = embedder.tokenizer(texts, truncation=True, max_length=embedder.max_tokens)
        tokens = sum(len(ids) for ids in encoded["input_ids"])
        result = {"vectors": vectors, "prompt_tokens": tokens}
    except Exception:
        logger.exception("embedding request %s failed", request_id)
        result = {"error": "embedding failed in the worker"}
    key = embed_result_key(request_id)
    pipe = client.pipeline(transaction=False)
    pipe.rpush(key, json.dumps(result))
    pipe.expire(key, RESULT_TTL_S)
    pipe.execute()
