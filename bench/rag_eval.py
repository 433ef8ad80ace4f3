"""Retrieval quality on a SQuAD-format file: the product's retrieval vs brute-force cosine.

Run: .venv/bin/python -m bench.rag_eval ../shared/data/squad-v2-dev-2articles.json
Each article is uploaded through the API and indexed by the real ingest worker. For every
answerable question, recall@5 counts a hit when a retrieved chunk contains an answer text.
Brute force ranks the very same chunks (read back from Chroma) by exact cosine similarity
with the same embedder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import Stack, running_stack
from workers.context import build_context
from workers.ingest.embedder import load_embedder
from workers.retrieval import retrieve
from workers.vectors import VectorStore

K = 5


def normalize(text: str) -> str:
    return " ".join(text.split()).lower()


def upload_articles(stack: Stack, data: list[dict[str, Any]]) -> list[int]:
    ids = []
    for article in data:
        body = "\n\n".join(p["context"] for p in article["paragraphs"]).encode()
        response = stack.http.post(
            "/api/documents", files={"files": (f"{article['title']}.txt", body)}
        )
        response.raise_for_status()
        ids.append(response.json()["items"][0]["id"])
    deadline = time.monotonic() + 1800
    for document_id in ids:
        while time.monotonic() < deadline:
            status = stack.http.get(f"/api/documents/{document_id}").json()
            if status["status"] in {"ready", "error"}:
                assert status["status"] == "ready", status
                break
            time.sleep(0.5)
    return ids


def questions(data: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    found = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [normalize(a["text"]) for a in qa.get("answers", [])]
                if not qa.get("is_impossible") and answers:
                    found.append((qa["question"], answers))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    data = json.loads(args.file.read_text())["data"]
    with running_stack(inference=False, ingest=True) as stack:
        started = time.perf_counter()
        upload_articles(stack, data)
        indexed_s = time.perf_counter() - started
        settings = stack.settings.model_copy(update={"retrieval_top_k": K})
        ctx = build_context(settings)
        embedder = load_embedder(settings)
        store = VectorStore(settings)
        everything = store.collection.get(include=["documents", "embeddings"])
        texts = [normalize(t) for t in everything["documents"] or []]
        matrix = np.asarray(everything["embeddings"], dtype=np.float32)
        qs = questions(data)
        product_hits = brute_hits = 0
        unthresholded_hits = 0
        for question, answers in qs:
            vector = np.asarray(embedder.encode([question])[0], dtype=np.float32)
            brute = np.argsort(-(matrix @ vector))[:K]
            brute_hits += any(a in texts[i] for i in brute for a in answers)
            product = retrieve(ctx, lambda: embedder, question, 0, True, lambda _files: store)
            product_hits += any(a in normalize(h.chunk.text) for h in product for a in answers)
            raw = store.query(list(map(float, vector)), K)
            unthresholded_hits += any(a in normalize(h.chunk.text) for h in raw for a in answers)
        ctx.db.dispose()
    n = len(qs)
    product, brute, raw_recall = product_hits / n, brute_hits / n, unthresholded_hits / n
    print(
        f"{args.file.name}: {len(data)} articles, {len(texts)} chunks indexed in "
        f"{indexed_s:.1f} s, {n} answerable questions"
    )
    print(
        f"recall@{K}: product retrieval {product:.3f} (Chroma HNSW + score threshold "
        f"{settings.retrieval_min_score}), brute-force cosine {brute:.3f}, ratio "
        f"{product / brute:.3f}x (targets >= 0.98x and >= 0.90)"
    )
    print(f"recall@{K} of the HNSW index alone (no threshold): {raw_recall:.3f}")


if __name__ == "__main__":
    main()
