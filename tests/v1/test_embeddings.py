"""/v1/embeddings with the openai client: the ingest worker embeds, the web process waits."""

from __future__ import annotations

import math

import httpx
import openai
from flask.testing import FlaskClient

from testkit.processes import LiveServer, WorkerProcess


def test_embeddings_come_from_the_ingest_worker(
    client: FlaskClient,
    auth_headers: dict[str, str],
    live_server: LiveServer,
    ingest_worker: WorkerProcess,
) -> None:
    key = client.post("/api/keys", json={"name": "emb"}, headers=auth_headers).json["key"]
    api = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)
    name = next(m.id for m in api.models.list() if "MiniLM" in m.id)
    texts = ["a small cat sleeps", "a kitten is napping", "the stock market fell sharply"]
    result = api.embeddings.create(model=name, input=texts)
    vectors = [item.embedding for item in sorted(result.data, key=lambda d: d.index)]
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-3) for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return math.fsum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    assert (
        result.usage.prompt_tokens >= 15 and result.usage.total_tokens == result.usage.prompt_tokens
    )
    single = api.embeddings.create(model=name, input="a small cat sleeps")
    assert math.isclose(cosine(single.data[0].embedding, vectors[0]), 1.0, rel_tol=1e-4)
    plain = httpx.post(  # the client above asked for base64; JSON floats by default
        f"{live_server.url}/v1/embeddings",
        json={"model": name, "input": ["a small cat sleeps"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    ).json()["data"][0]["embedding"]
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(plain, vectors[0], strict=True))
    try:
        api.embeddings.create(model="text-embedding-3-small", input="x")
    except openai.NotFoundError as exc:
        assert "does not exist" in str(exc)
    else:
        raise AssertionError("an unknown model must be refused")
