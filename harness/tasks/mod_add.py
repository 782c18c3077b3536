"""Modular addition: (a + b) mod p."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


class ModAddParams(Strict):
    """modulus: 16-32 (each residue is one symbol; below 16 fewer than 256 questions exist for 128 held out)."""

    modulus: int = Field(default=31, ge=16, le=vocab.N_SYMBOLS)


@task
class ModAdd(Task):
    """Add two residues modulo ``modulus`` (31 by default); each number is one symbol.

    The whole space has only modulus**2 questions (961 at 31), so 128 of them are
    held out and never trained on: the task measures generalisation, not recall.

    Example::

        TAG 17 25 SEP | 11        (17 + 25 = 42 = 11 mod 31)
    """

    family = "mod_add"
    summary = "Add two residues modulo {modulus}; each number is one symbol."
    version = 2
    home_tag = 3
    threshold = 0.5
    n_heldout = 128
    Params = ModAddParams
    round_space = {"modulus": (23, 26, 29, 31, 32)}
    modulus: int

    @property
    def chance(self) -> float:
        return 1 / self.modulus

    @property
    def question_space(self) -> int:
        return self.modulus**2

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        ab = rng.integers(0, self.modulus, size=(n, 2))  # (n, 2)
        question = np.concatenate([vocab.sym(ab), np.full((n, 1), vocab.SEP)], axis=1)
        answer = vocab.sym(ab.sum(axis=1, keepdims=True) % self.modulus)  # (n, 1)
        return question, answer
