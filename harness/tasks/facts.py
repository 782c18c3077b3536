"""Fact recall: a fixed table of arbitrary key -> value pairs, learnt by heart."""

from __future__ import annotations

import functools

import numpy as np
from pydantic import Field

from harness.documents import Strict
from harness.tasks import streams, vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


class FactsParams(Strict):
    """n_facts: size of the table (16-1024; keys are two symbols, so at most 32 * 32 distinct)."""

    n_facts: int = Field(default=512, ge=16, le=vocab.N_SYMBOLS**2)


@task
class Facts(Task):
    """Recall a fixed table of ``n_facts`` facts (512 by default): a two-symbol key names one arbitrary symbol.

    Nothing about a key predicts its value, so the only way to answer is to store
    every fact in the weights. Unlike the algorithmic tasks, which turn on when a
    model finds one circuit, this capability grows with capacity (a few bits per
    parameter, once each fact has been seen often enough), fact by fact. Recall of
    trained facts is the capability, so the evaluation set is the table itself.

    Example::

        TAG 3 17 SEP | 25
    """

    family = "facts"
    summary = "Recall a fixed table of {n_facts} facts: a two-symbol key names one arbitrary symbol."
    version = 1
    home_tag = 9
    threshold = 0.5
    chance = 1 / vocab.N_SYMBOLS
    recall = True
    Params = FactsParams
    round_space = {"n_facts": (256, 384, 512, 768)}
    n_facts: int

    @property
    def n_heldout(self) -> int:  # type: ignore[override]
        return self.n_facts

    @functools.cached_property
    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys (n_facts, 2), values (n_facts,)): distinct keys, uniform values, fixed per version and size."""
        rng = np.random.default_rng(np.random.SeedSequence(streams.TABLE, spawn_key=self.stream_key))
        pairs = rng.permutation(vocab.N_SYMBOLS**2)[: self.n_facts]  # (n_facts,) distinct keys
        keys = np.stack([pairs // vocab.N_SYMBOLS, pairs % vocab.N_SYMBOLS], axis=1)
        return keys, rng.integers(0, vocab.N_SYMBOLS, size=self.n_facts)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        keys, values = self.table
        pick = rng.integers(0, self.n_facts, size=n)  # (n,)
        question = np.concatenate([vocab.sym(keys[pick]), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(values[pick, None])  # (n, 1)
