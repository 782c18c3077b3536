"""Sparse parity (Barak et al. 2022): the parity of a few hidden bit positions."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class SparseParity(Task):
    """Parity of 2 fixed secret positions among 12 random bits.

    The positions are part of the task version, the same for every run; the model
    has to find them from examples alone. Learned abruptly after hidden progress.

    Example (secret positions 2 and 9)::

        TAG 0 1 1 0 0 1 1 0 1 0 0 1 SEP | 1      (1 xor 0)
    """

    name = "sparse_parity"
    version = 2
    tag = 7
    threshold = 0.9
    chance = 0.5
    n_bits = 12
    secret = (2, 9)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        bits = rng.integers(0, 2, size=(n, self.n_bits))  # (n, B)
        parity = bits[:, list(self.secret)].sum(axis=1, keepdims=True) % 2  # (n, 1)
        question = np.concatenate([vocab.sym(bits), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(parity)
