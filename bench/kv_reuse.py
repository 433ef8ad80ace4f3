"""A chat's later turns reuse its cached KV state: TTFT of turns 2-5 against a cold prompt.

Run: .venv/bin/python -m bench.kv_reuse
In one process, on the engine an inference worker runs: a chat whose first message carries
~800 tokens, then four more turns, with three other chats (their own long prompts) between
turns. Each turn's time to first token is set against the same prompt on a second engine that
has never seen it (cold: the whole prompt evaluated). Target: warm / cold <= 0.2x.
"""

from __future__ import annotations

import argparse
import statistics
import time

from app.config import Settings
from app.services.prompting import DEFAULT_SYSTEM_PROMPT, ChatMessage
from scripts.fetch_model import fetch
from workers.inference.model import ChatModel, Sampling, load_model
from workers.inference.sequence import Request

HISTORY = "Here are my notes on the history of lighthouses, please keep them in mind. " + " ".join(
    f"Note {i}: the lighthouse on cape {i} was built of stone, lit by oil lamps, "
    "kept by a family who rowed supplies out every week in summer."
    for i in range(26)
)
FOLLOW_UPS = ["Which cape was first?", "Who kept them?", "How were they lit?", "Summarize."]


def first_token_ms(model: ChatModel, messages: list[ChatMessage]) -> tuple[float, str]:
    tokens, stop = model.encode(messages)
    started = time.perf_counter()
    reply = model.engine.submit(Request(tokens, stop, Sampling(32, 0.0, 1.0, 1)))
    pieces = iter(reply)
    first = next(pieces, "")
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, first + "".join(pieces)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(model_path=fetch(), n_threads=args.threads)
    warm_model = load_model(settings)
    cold_model = load_model(settings)
    system: ChatMessage = {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    chat: list[ChatMessage] = [system, {"role": "user", "content": HISTORY}]
    print(f"turn 1 prompt: {len(warm_model.encode(chat)[0])} tokens")  # noqa: T201
    _, answer = first_token_ms(warm_model, chat)
    ratios = []
    for turn, question in enumerate(FOLLOW_UPS, start=2):
        for other in range(3):  # other chats between the turns
            first_token_ms(warm_model, [system, {"role": "user", "content": f"{other}{HISTORY}"}])
        chat = [*chat, {"role": "assistant", "content": answer}]
        chat.append({"role": "user", "content": question})
        warm, answer = first_token_ms(warm_model, chat)
        cold_model.engine.cache.forget()  # nothing cached: the whole prompt is evaluated
        cold, _ = first_token_ms(cold_model, chat)
        ratios.append(warm / cold)
        print(  # noqa: T201
            f"turn {turn}: prompt {len(warm_model.encode(chat)[0])} tokens, TTFT warm "
            f"{warm:.0f} ms, cold {cold:.0f} ms, ratio {warm / cold:.3f}x"
        )
    print(  # noqa: T201
        f"median ratio {statistics.median(ratios):.3f}x, worst {max(ratios):.3f}x "
        f"(target <= 0.2x); prompt tokens reused {warm_model.engine.cache.reused_tokens}, "
        f"sequences loaded back from host memory {warm_model.engine.cache.restored}"
    )


if __name__ == "__main__":
    main()
