"""Copy: repeat a string of symbols."""

from __future__ import annotations

import numpy as np

from harness import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Copy(Task):
    """Repeat a string of 8 symbols (alphabet 16) after the separator.

    Example (symbols as numbers, answer after ``|``)::

        TAG 3 14 0 7 7 2 9 11 SEP | 3 14 0 7 7 2 9 11
    """

    name = "copy"
    version = 1
    tag = 0
    threshold = 0.5
    length, alphabet = 8, 16
    chance = alphabet**-length

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.alphabet, size=(n, self.length))  # (n, L)
        question = np.concatenate([vocab.sym(x), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(x)
