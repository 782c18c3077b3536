"""Reverse: write a string of symbols backwards."""

from __future__ import annotations

import numpy as np

from harness import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Reverse(Task):
    """Write a string of 8 symbols (alphabet 16) backwards after the separator.

    Example::

        TAG 3 14 0 7 7 2 9 11 SEP | 11 9 2 7 7 0 14 3
    """

    name = "reverse"
    version = 1
    tag = 1
    threshold = 0.5
    length, alphabet = 8, 16
    chance = alphabet**-length

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.alphabet, size=(n, self.length))  # (n, L)
        question = np.concatenate([vocab.sym(x), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(x[:, ::-1])
