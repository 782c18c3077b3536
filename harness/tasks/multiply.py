"""Multiplication of a multi-digit number by one digit, digits written least significant first."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.digits import digit_tokens
from harness.tasks.registry import task


class MultiplyParams(Strict):
    """n_digits: digits of the long number (3-14: below 3, too few questions exist; above 14, it outgrows n_ctx 32)."""

    n_digits: int = Field(default=3, ge=3, le=14)


@task
class Multiply(Task):
    """Multiply an ``n_digits``-digit number (3 by default) by one digit; digits are written least significant first.

    Needs the one-digit multiplication table and a carry that can exceed 1, so it
    is harder than addition. 10**(n_digits + 1) questions exist (10,000 at 3); 1,024 are held out.

    Example (475 * 8 = 3800)::

        TAG 5 7 4 8 SEP | 0 0 8 3
    """

    family = "multiply"
    summary = "Multiply a {n_digits}-digit number by a single digit; digits are written least significant first."
    version = 1
    home_tag = 8
    threshold = 0.5
    Params = MultiplyParams
    round_space = {"n_digits": (3, 4, 5)}
    n_digits: int

    @property
    def chance(self) -> float:
        return 10.0 ** -(self.n_digits + 1)

    @property
    def question_space(self) -> int:
        return 10 ** (self.n_digits + 1)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        a = rng.integers(0, 10**self.n_digits, size=n)  # (n,)
        b = rng.integers(0, 10, size=n)  # (n,)
        question = np.concatenate(
            [digit_tokens(a, self.n_digits), digit_tokens(b, 1), np.full((n, 1), vocab.SEP)], axis=1
        )  # (n, D+2)
        return question, digit_tokens(a * b, self.n_digits + 1)  # (n, D+1)
