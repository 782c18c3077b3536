"""String tasks: a random string of symbols, then a fixed transformation of it as the answer."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from pydantic import Field

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task


class StringParams(Strict):
    """length: symbols in the string (1-15: question and answer fit 32 positions); alphabet: distinct symbols (2-32)."""

    length: int = Field(default=8, ge=1, le=15)
    alphabet: int = Field(default=16, ge=2, le=vocab.N_SYMBOLS)


class StringTask(Task):
    """Question: ``length`` symbols from an alphabet of ``alphabet``, then SEP; answer: ``transform``."""

    Params = StringParams
    round_space = {"length": (6, 7, 8, 9, 10), "alphabet": (12, 16, 20, 24)}
    length: int
    alphabet: int

    @property
    def chance(self) -> float:
        return float(self.alphabet) ** -self.length

    @property
    def question_space(self) -> int:
        return self.alphabet**self.length

    @abstractmethod
    def transform(self, x: np.ndarray) -> np.ndarray:
        """(n, length) symbol values -> (n, answer length) symbol values."""

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.alphabet, size=(n, self.length))  # (n, L)
        question = np.concatenate([vocab.sym(x), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(self.transform(x))
