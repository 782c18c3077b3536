"""Multiplication of a multi-digit number by one digit, digits written least significant first."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.addition import reversed_digits
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Multiply(Task):
    """Multiply a 3-digit number by a single digit; digits are written least significant first.

    Needs the one-digit multiplication table and a carry that can exceed 1, so it
    is harder than addition. 10,000 questions exist; 1,024 are held out.

    Example (475 * 8 = 3800)::

        TAG 5 7 4 8 SEP | 0 0 8 3
    """

    name = "multiply"
    version = 1
    tag = 8
    threshold = 0.5
    n_digits = 3
    chance = 10.0 ** -(n_digits + 1)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        a = rng.integers(0, 10**self.n_digits, size=n)  # (n,)
        b = rng.integers(0, 10, size=n)  # (n,)
        question = np.concatenate(
            [vocab.sym(reversed_digits(a, self.n_digits)), vocab.sym(b[:, None]), np.full((n, 1), vocab.SEP)],
            axis=1,
        )
        return question, vocab.sym(reversed_digits(a * b, self.n_digits + 1))  # (n, D+1)
