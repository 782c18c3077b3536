"""Multi-digit addition with digits written least significant first."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.digits import digit_tokens
from harness.tasks.registry import task


class AdditionParams(Strict):
    """n_digits: digits of each number (2-9: question and answer fit 32 positions, 1 leaves too few questions)."""

    n_digits: int = Field(default=2, ge=2, le=9)


@task
class Addition(Task):
    """Add two ``n_digits``-digit numbers (2 by default); digits are written least significant first.

    Reversed digits let the model produce the carry in the order it is computed.
    Version 2 has 2 digits rather than 3: with 3, whether a run left the carry
    plateau within the cpu ladder's budget was a coin flip at every rung from
    c4 up (on tuning seeds, 6 of 24 pairs of c4-c7 stuck at 0 to 10%
    accuracy beside a smaller rung at 80% or more, and 5,500 steps did not
    change that), so its size of emergence said more about the seed than the size.

    Example (75 + 89 = 164)::

        TAG 5 7 9 8 SEP | 4 6 1
    """

    family = "addition"
    summary = "Add two {n_digits}-digit numbers; digits are written least significant first."
    version = 2
    home_tag = 4
    threshold = 0.5
    Params = AdditionParams
    round_space = {"n_digits": (2, 3, 4)}
    n_digits: int

    @property
    def chance(self) -> float:
        return 10.0 ** -(self.n_digits + 1)

    @property
    def question_space(self) -> int:
        return 100**self.n_digits

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = rng.integers(0, 10**self.n_digits, size=(2, n))  # (n,) each
        question = np.concatenate(
            [digit_tokens(a, self.n_digits), digit_tokens(b, self.n_digits), np.full((n, 1), vocab.SEP)], axis=1
        )  # (n, 2D+1)
        answer = digit_tokens(a + b, self.n_digits + 1)  # (n, D+1)
        return question, answer
