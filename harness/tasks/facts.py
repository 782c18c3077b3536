"""Fact recall: a fixed table of arbitrary key -> value pairs, learnt by heart."""

from __future__ import annotations

import functools

import numpy as np

from harness.tasks import streams, vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Facts(Task):
    """Recall a fixed table of 512 facts: a two-symbol key names one arbitrary symbol.

    Nothing about a key predicts its value, so the only way to answer is to store
    every fact in the weights. Unlike the algorithmic tasks, which turn on when a
    model finds one circuit, this capability grows with capacity (a few bits per
    parameter, once each fact has been seen often enough), fact by fact. Recall of
    trained facts is the capability, so the evaluation set is the table itself.

    Example::

        TAG 3 17 SEP | 25
    """

    name = "facts"
    version = 1
    tag = 9
    threshold = 0.5
    n_facts = 512
    chance = 1 / vocab.N_SYMBOLS
    n_heldout = n_facts
    recall = True

    @functools.cached_property
    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys (n_facts, 2), values (n_facts,)): distinct keys, uniform values, fixed per version."""
        rng = np.random.default_rng(np.random.SeedSequence(streams.TABLE, spawn_key=(self.tag, self.version)))
        pairs = rng.permutation(vocab.N_SYMBOLS**2)[: self.n_facts]  # (n_facts,) distinct keys
        keys = np.stack([pairs // vocab.N_SYMBOLS, pairs % vocab.N_SYMBOLS], axis=1)
        return keys, rng.integers(0, vocab.N_SYMBOLS, size=self.n_facts)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        keys, values = self.table
        pick = rng.integers(0, self.n_facts, size=n)  # (n,)
        question = np.concatenate([vocab.sym(keys[pick]), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(values[pick, None])  # (n, 1)
