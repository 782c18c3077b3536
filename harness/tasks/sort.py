"""Sort: write a string of symbols in ascending order."""

from __future__ import annotations

import numpy as np

from harness import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Sort(Task):
    """Sort 8 symbols (alphabet 16, repeats allowed) in ascending order.

    Example::

        TAG 3 14 0 7 7 2 9 11 SEP | 0 2 3 7 7 9 11 14
    """

    name = "sort"
    version = 1
    tag = 2
    threshold = 0.5
    length, alphabet = 8, 16
    chance = alphabet**-length

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.alphabet, size=(n, self.length))  # (n, L)
        question = np.concatenate([vocab.sym(x), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(np.sort(x, axis=1))
