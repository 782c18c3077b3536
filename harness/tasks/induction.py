"""Induction: continue a segment that occurred earlier in the context."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class Induction(Task):
    """After 12 distinct symbols, a cue symbol repeats one of them: continue what followed it.

    The cue starts at a random offset, so the model cannot memorise positions; it
    has to find the earlier occurrence of the current token and copy the token
    after it (an induction head, which needs two attention layers).

    Example (cue 9 first occurred at offset 3; the 4 symbols after it follow)::

        TAG 4 30 12 9 21 0 17 5 28 1 14 22 9 | 21 0 17 5
    """

    name = "induction"
    version = 2
    tag = 5
    threshold = 0.5
    context, continuation = 12, 4
    chance = vocab.N_SYMBOLS**-continuation

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        # `context` distinct symbols per row: the head of a random permutation of all 32.
        x = np.argsort(rng.random((n, vocab.N_SYMBOLS)), axis=1)[:, : self.context]  # (n, C)
        start = rng.integers(0, self.context - self.continuation, size=n)  # (n,) cue offset
        offsets = start[:, None] + np.arange(self.continuation + 1)  # (n, K+1)
        segment = np.take_along_axis(x, offsets, axis=1)  # (n, K+1): cue, then continuation
        question = vocab.sym(np.concatenate([x, segment[:, :1]], axis=1))
        return question, vocab.sym(segment[:, 1:])
