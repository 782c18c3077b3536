"""Modular addition: (a + b) mod p."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class ModAdd(Task):
    """Add two residues modulo 31; each number is one symbol.

    The whole space has only 31 * 31 = 961 questions, so 128 of them are held
    out and never trained on: the task measures generalisation, not recall.

    Example::

        TAG 17 25 SEP | 11        (17 + 25 = 42 = 11 mod 31)
    """

    name = "mod_add"
    version = 2
    tag = 3
    threshold = 0.5
    modulus = 31
    chance = 1 / modulus
    n_heldout = 128

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        ab = rng.integers(0, self.modulus, size=(n, 2))  # (n, 2)
        question = np.concatenate([vocab.sym(ab), np.full((n, 1), vocab.SEP)], axis=1)
        answer = vocab.sym(ab.sum(axis=1, keepdims=True) % self.modulus)  # (n, 1)
        return question, answer
