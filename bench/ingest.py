"""Ingest throughput vs raw sentence-transformers, and retrieval latency at 10k / 100k chunks.

Run: .venv/bin/python -m bench.ingest [--file ../shared/data/squad-v2-dev-2articles.json]
1. One document (the SQuAD contexts, repeated) goes through the API and the real ingest worker;
   chunks/s = its chunk count / (upload → ready). In the same run, the same chunks (cut by the
   same chunker) are encoded by raw sentence-transformers in this process.
2. Retrieval p50/p99 through the product's query path (VectorStore.query on a Chroma server)
   after loading 10k and then 100k chunks. Those vectors are random unit vectors: encoding
   100k real chunks on 2 CPU cores would take most of an hour, and HNSW latency depends on
   the count and dimension, not on the text.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.harness import running_stack
from bench.stream import percentile
from workers.ingest.chunking import chunk_sections
from workers.ingest.embedder import load_embedder
from workers.ingest.extract import extract
from workers.vectors import Chunk, VectorStore

DIMENSIONS = 384


def corpus(path: Path, repeat: int) -> bytes:
    data = json.loads(path.read_text())["data"]
    paragraphs = [p["context"] for article in data for p in article["paragraphs"]]
    return "\n\n".join(paragraphs * repeat).encode()


def fill(store: VectorStore, start: int, stop: int, rng: np.random.Generator) -> None:
    for offset in range(start, stop, 2000):
        count = min(2000, stop - offset)
        vectors = rng.standard_normal((count, DIMENSIONS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = [
            Chunk(
                10_000_000 + (offset + i) // 100,
                (offset + i) % 100,
                f"chunk {offset + i}",
                "synthetic",
            )
            for i in range(count)
        ]
        store.upsert(chunks, vectors.tolist())


def latencies(store: VectorStore, rng: np.random.Generator, queries: int = 300) -> list[float]:
    found = []
    for _ in range(queries):
        vector = rng.standard_normal(DIMENSIONS)
        vector /= np.linalg.norm(vector)
        started = time.perf_counter()
        store.query(vector.tolist(), 5)
        found.append((time.perf_counter() - started) * 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--file",
        type=Path,
        default=Path(__file__).resolve().parents[2]
        / "shared"
        / "data"
        / "squad-v2-dev-2articles.json",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = corpus(args.file, args.repeat)
    with running_stack(inference=False, ingest=True) as stack:
        settings = stack.settings
        embedder = load_embedder(settings)
        size = min(settings.chunk_tokens, embedder.max_tokens - 2)
        worker_rates, raw_rates = [], []
        for round_number in range(args.rounds):  # interleaved, so load on the machine hits both
            content = body + f"\n\nRound {round_number}.".encode()
            started = time.perf_counter()
            response = stack.http.post(
                "/api/documents", files={"files": (f"corpus{round_number}.txt", content)}
            )
            response.raise_for_status()
            document_id = response.json()["items"][0]["id"]
            while (status := stack.http.get(f"/api/documents/{document_id}").json())[
                "status"
            ] not in {"ready", "error"}:
                time.sleep(0.1)
            assert status["status"] == "ready", status
            worker_rates.append(status["chunk_count"] / (time.perf_counter() - started))
            texts = [
                text
                for _, text in chunk_sections(
                    extract(content, "text/plain"),
                    embedder.tokenizer,
                    size=size,
                    overlap=min(settings.chunk_overlap_tokens, size // 2),
                )
            ]
            assert len(texts) == status["chunk_count"]
            embedder.encode(texts[:8])  # warm, as the worker's model is
            started = time.perf_counter()
            embedder.encode(texts)
            raw_rates.append(len(texts) / (time.perf_counter() - started))
        worker_rate, raw_rate = float(np.median(worker_rates)), float(np.median(raw_rates))
        print(
            f"ingest: {status['chunk_count']} chunks ({len(body) / 1e6:.2f} MB text) x "
            f"{args.rounds} rounds; worker {worker_rate:.1f} chunks/s (upload -> ready, incl. "
            f"extract, chunk, Chroma writes, progress), raw sentence-transformers encode "
            f"{raw_rate:.1f} chunks/s, ratio {worker_rate / raw_rate:.3f}x (target >= 0.8x)"
        )

        store = VectorStore(settings.model_copy(update={"chroma_collection": "bench-latency"}))
        rng = np.random.default_rng(7)
        loaded = 0
        for size_wanted in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            fill(store, loaded, size_wanted, rng)
            load_s = time.perf_counter() - started
            loaded = size_wanted
            found = latencies(store, rng)
            print(
                f"retrieval at {loaded:,} chunks (loaded in {load_s:.0f} s): top-5 query p50 "
                f"{percentile(found, 0.5):.1f} ms, p99 {percentile(found, 0.99):.1f} ms"
            )


if __name__ == "__main__":
    main()
