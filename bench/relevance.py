"""Which passages answer a question: the cosine scores behind RETRIEVAL_MIN_SCORE and
RETRIEVAL_MAX_GAP, with the embedder the product uses (all-MiniLM-L6-v2).

Run: .venv/bin/python -m bench.relevance
Six short policies of a company's handbook, and questions each answered by one of them (or by
none). Per question: every passage's score, best first, and those the retrieval keeps (`*`).
A passage that answers scores about 0.5-0.8; one on a neighbouring topic 0.2-0.45; an
unrelated one under 0.25. The threshold alone (0.15 before) let the neighbours in.
"""

from __future__ import annotations

import argparse

import numpy as np

from app.config import get_settings
from workers.ingest.embedder import load_embedder
from workers.retrieval import relevant
from workers.vectors import Chunk, Hit

HANDBOOK = {
    "printer": "To replace the toner cartridge, open the front cover of the printer, pull the"
    " old cartridge out and insert the new one until it clicks. Paper jams are cleared from"
    " tray 2.",
    "meals": "Employees travelling on business receive a daily meal allowance of 45 euros."
    " Breakfast included in the hotel price reduces the allowance by 10 euros.",
    "hotels": "Hotel bookings must be made through the travel portal. The maximum nightly rate"
    " is 150 euros in most cities and 220 euros in capitals.",
    "vacation": "Full-time staff have 28 days of paid vacation per year. Unused days may be"
    " carried over until March 31 of the following year.",
    "security": "Passwords must be at least 12 characters long and changed when a breach is"
    " suspected. Report lost laptops to IT within 24 hours.",
    "onboarding": "New employees get their laptop on the first day and meet their buddy, who"
    " shows them the office and the team's tools.",
}
QUESTIONS = {  # question -> the passage that answers it (None: none does)
    "What is the meal allowance?": "meals",
    "How much can I spend on food when travelling?": "meals",
    "How do I fix a paper jam?": "printer",
    "How many vacation days do I get?": "vacation",
    "What is the maximum hotel rate?": "hotels",
    "Who gives me my laptop?": "onboarding",
    "What is the capital of France?": None,
    "Tell me a joke": None,
    "hello": None,
}


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    settings = get_settings()
    embedder = load_embedder(settings)
    names = list(HANDBOOK)
    passages = np.array(embedder.encode(list(HANDBOOK.values())))
    missed = extra = 0
    for question, answer in QUESTIONS.items():
        scores = passages @ np.array(embedder.encode([question])[0])
        hits = [
            Hit(
                Chunk(document_id=i, index=0, title=name, text="", page=None, heading=None),
                float(s),
            )
            for i, (name, s) in enumerate(zip(names, scores, strict=True))
        ]
        kept = {
            hit.chunk.title
            for hit in relevant(hits, settings.retrieval_min_score, settings.retrieval_max_gap)
        }
        missed += answer is not None and answer not in kept
        extra += len(kept - {answer})
        ranked = sorted(hits, key=lambda hit: -hit.score)
        row = "  ".join(
            f"{'*' if hit.chunk.title in kept else ' '}{hit.chunk.title}={hit.score:.2f}"
            for hit in ranked
        )
        print(f"{question[:44]:44s} {row}")
    print(
        f"min score {settings.retrieval_min_score}, max gap {settings.retrieval_max_gap}:"
        f" {missed} answering passages missed, {extra} passages kept that do not answer"
    )


if __name__ == "__main__":
    main()
