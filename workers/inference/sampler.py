"""A sequence's sampler, in C: llama.cpp's sampler chains, with a grammar checked lazily.

With a grammar (structured output, tool calls) the token is drawn first without it, and the
grammar checks that one token alone; only a token it refuses is drawn again with the grammar
over the whole vocabulary. This is what llama.cpp's own common sampler does: the grammar
checking every candidate of a 49,152-token vocabulary each step cost about as much as the
model's decode of the token (bench.grammar_cost: 1.85-2.31x the time per token before). At
temperature 0 the result is the same token either way (the best token, if the grammar allows
it, is also the best allowed one).

At temperature 0 the drawn token is the argmax of the logits row, read in place (numpy over
llama.cpp's buffer: about 10 µs), not llama.cpp's greedy sampler, which first copies the whole
vocabulary into a candidate array (110-200 µs a token here, 2-3% of a decode step's time per
reply). Both take the first of equal best logits, so the tokens are the same. The engine reads
the best tokens of all its greedy replies at once (best_tokens: one call into llama.cpp a step).
"""

from __future__ import annotations

import ctypes
import math
import secrets
from typing import Any

import llama_cpp
import numpy as np

from workers.inference.sampling import Sampling


class SequenceSampler:
    def __init__(
        self, vocab: llama_cpp.llama_vocab_p, sampling: Sampling, grammar: str | None
    ) -> None:
        """Raises ValueError when the grammar does not parse."""
        seed = sampling.seed if sampling.seed is not None else secrets.randbits(32)
        self.grammar: Any = None
        self.strict: Any = None
        if grammar is not None:
            self.grammar = llama_cpp.llama_sampler_init_grammar(
                vocab, grammar.encode("utf-8"), b"root"
            )
            if not self.grammar:
                raise ValueError("the grammar does not parse")
            self.strict = chain(sampling, seed, self.grammar)  # owns the grammar sampler
        self.greedy = sampling.temperature == 0.0
        self.free: Any = None if self.greedy else chain(sampling, seed, None)  # argmax: no chain
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(vocab))
        self._cell = llama_cpp.llama_token_data()
        self._one = llama_cpp.llama_token_data_array(
            ctypes.pointer(self._cell), 1, -1, False
        )
        self.redrawn = 0  # tokens the grammar refused, drawn again under it

    def sample(self, ctx: llama_cpp.llama_context_p, output: int, best: int | None = None) -> int:
        """The next token from the logits of batch row ``output`` (at temperature 0, ``best``
        when the caller read it already: best_tokens); every sampler's state (the grammar's
        included) moves past it."""
        if self.greedy:
            token = best if best is not None else best_token(ctx, output, self.n_vocab)
        else:
            token = int(llama_cpp.llama_sampler_sample(self.free, ctx, output))
        if self.grammar is None:
            return token
        self._cell.id = llama_cpp.llama_token(token)
        self._cell.logit, self._cell.p = 0.0, 0.0
        self._one.size, self._one.selected, self._one.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self._one))
        if not math.isinf(self._cell.logit):
            llama_cpp.llama_sampler_accept(self.grammar, token)
            return token
        self.redrawn += 1
        return int(llama_cpp.llama_sampler_sample(self.strict, ctx, output))

    def close(self) -> None:
        if self.free is not None:
            llama_cpp.llama_sampler_free(self.free)
        if self.strict is not None:
            llama_cpp.llama_sampler_free(self.strict)


def chain(sampling: Sampling, seed: int, grammar: Any) -> Any:
    """top-k 40, typical 1.0, top-p, min-p 0.05, temperature, then a draw from ``seed`` (or
    the best token at temperature 0), after ``grammar`` when given."""
    found = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    if grammar is not None:
        add(found, grammar)
    if sampling.temperature == 0.0:
        add(found, llama_cpp.llama_sampler_init_greedy())
        return found
    add(found, llama_cpp.llama_sampler_init_top_k(40))
    add(found, llama_cpp.llama_sampler_init_typical(1.0, 1))
    add(found, llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
    add(found, llama_cpp.llama_sampler_init_min_p(0.05, 1))
    add(found, llama_cpp.llama_sampler_init_temp(sampling.temperature))
    add(found, llama_cpp.llama_sampler_init_dist(seed))
    return found


def best_token(ctx: llama_cpp.llama_context_p, output: int, n_vocab: int) -> int:
    """The token of the highest logit in batch row ``output`` (the first of equal ones, as
    llama.cpp's greedy sampler picks)."""
    row = llama_cpp.llama_get_logits_ith(ctx, output)
    return int(np.ctypeslib.as_array(row, shape=(n_vocab,)).argmax())


def best_tokens(
    ctx: llama_cpp.llama_context_p, greedy: list[bool], n_vocab: int
) -> list[int | None]:
    """The best token of each output row of the last decode (rows in batch order) that is
    ``greedy``, None for the others: one read of the logits for them all."""
    rows = [row for row, wanted in enumerate(greedy) if wanted]
    if not rows:
        return [None] * len(greedy)
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(ctx), shape=(len(greedy), n_vocab))
    chosen = logits if len(rows) == len(greedy) else logits[rows]
    found = iter(chosen.argmax(axis=1).tolist())
    return [next(found) if wanted else None for wanted in greedy]
