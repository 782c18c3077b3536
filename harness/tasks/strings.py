"""String tasks: a random string of symbols, then a fixed transformation of it as the answer."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task


class StringTask(Task):
    """Question: ``length`` symbols from an alphabet of ``alphabet``, then SEP; answer: ``transform``."""

    length, alphabet = 8, 16
    chance = alphabet**-length

    @abstractmethod
    def transform(self, x: np.ndarray) -> np.ndarray:
        """(n, length) symbol values -> (n, answer length) symbol values."""

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.alphabet, size=(n, self.length))  # (n, L)
        question = np.concatenate([vocab.sym(x), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(self.transform(x))
