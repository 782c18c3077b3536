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
    """Add two 2-digit numbers; digits are written least significant first.

    Reversed digits let the model produce the carry in the order it is computed.
    Version 2 has 2 digits rather than 3: with 3, whether a run left the carry
    plateau within the cpu ladder's budget was a coin flip at every rung from
    c4 up (on calibration seeds, 6 of 24 pairs of c4-c7 stuck at 0 to 10%
    accuracy beside a smaller rung at 80% or more, and 5,500 steps did not
    change that), so its size of emergence said more about the seed than the size.

    Example (75 + 89 = 164)::

        TAG 5 7 9 8 SEP | 4 6 1
    """

    name = "addition"
    version = 2
    tag = 4
    threshold = 0.5
    n_digits = 2
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
