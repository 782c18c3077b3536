"""Multi-digit addition with digits written least significant first."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


def reversed_digits(values: np.ndarray, n_digits: int) -> np.ndarray:
    """(n,) non-negative ints -> (n, n_digits) decimal digits, least significant first."""
    powers = 10 ** np.arange(n_digits)  # (D,)
    return (values[:, None] // powers) % 10


@task
class Addition(Task):
    """Add two 3-digit numbers; digits are written least significant first.

    Reversed digits let the model produce the carry in the order it is computed.

    Example (475 + 389 = 864)::

        TAG 5 7 4 9 8 3 SEP | 4 6 8 0
    """

    name = "addition"
    version = 1
    tag = 4
    threshold = 0.5
    n_digits = 3
    chance = 10.0 ** -(n_digits + 1)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = rng.integers(0, 10**self.n_digits, size=(2, n))  # (n,) each
        question = np.concatenate(
            [
                vocab.sym(reversed_digits(a, self.n_digits)),
                vocab.sym(reversed_digits(b, self.n_digits)),
                np.full((n, 1), vocab.SEP),
            ],
            axis=1,
        )
        answer = vocab.sym(reversed_digits(a + b, self.n_digits + 1))  # (n, D+1)
        return question, answer
