"""Induction: continue a segment that occurred earlier in the context."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


class InductionParams(Strict):
    """context: distinct symbols before the cue (2-27); continuation: the segment to continue (1 to context - 1);
    alphabet: symbols the context is drawn from (context to 32)."""

    context: int = Field(default=12, ge=2, le=27)
    continuation: int = Field(default=4, ge=1, le=26)
    alphabet: int = Field(default=vocab.N_SYMBOLS, ge=2, le=vocab.N_SYMBOLS)

    @model_validator(mode="after")
    def _fits(self) -> InductionParams:
        if self.continuation >= self.context:
            raise ValueError(
                f"continuation={self.continuation} must be smaller than context={self.context}: the cue and the "
                "segment after it lie inside the context"
            )
        if self.alphabet < self.context:
            raise ValueError(f"alphabet={self.alphabet} cannot hold context={self.context} distinct symbols")
        return self


@task
class Induction(Task):
    """After ``context`` distinct symbols (12 by default, of an alphabet of 32), a cue symbol repeats one of them:
    continue the ``continuation`` symbols (4) that followed it.

    The cue starts at a random offset, so the model cannot memorise positions; it
    has to find the earlier occurrence of the current token and copy the token
    after it (an induction head, which needs two attention layers).

    Example (cue 9 first occurred at offset 3; the 4 symbols after it follow)::

        TAG 4 30 12 9 21 0 17 5 28 1 14 22 9 | 21 0 17 5
    """

    family = "induction"
    summary = (
        "After {context} distinct symbols (alphabet {alphabet}), a cue symbol repeats one of them: continue the "
        "{continuation} symbols that followed it."
    )
    version = 2
    home_tag = 5
    threshold = 0.5
    Params = InductionParams
    round_space = {"context": (8, 10, 12, 14), "continuation": (2, 3, 4)}
    context: int
    continuation: int
    alphabet: int

    @property
    def chance(self) -> float:
        return float(self.alphabet) ** -self.continuation

    @property
    def question_space(self) -> int:
        return math.perm(self.alphabet, self.context) * (self.context - self.continuation)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        # `context` distinct symbols per row: the head of a random permutation of the alphabet.
        x = np.argsort(rng.random((n, self.alphabet)), axis=1)[:, : self.context]  # (n, C)
        start = rng.integers(0, self.context - self.continuation, size=n)  # (n,) cue offset
        offsets = start[:, None] + np.arange(self.continuation + 1)  # (n, K+1)
        segment = np.take_along_axis(x, offsets, axis=1)  # (n, K+1): cue, then continuation
        question = vocab.sym(np.concatenate([x, segment[:, :1]], axis=1))
        return question, vocab.sym(segment[:, 1:])
