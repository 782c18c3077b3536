"""Sparse parity (Barak et al. 2022): the parity of a few hidden bit positions."""

from __future__ import annotations

import functools

import numpy as np
from pydantic import Field, model_validator

from harness.documents import Strict
from harness.tasks import streams, vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


class SparseParityParams(Strict):
    """n_bits: random bits in the question (11-29: fewer leave too few questions, more outgrow 32 positions);
    k: secret positions whose parity is the answer (1 to n_bits)."""

    n_bits: int = Field(default=12, ge=11, le=29)
    k: int = Field(default=2, ge=1, le=29)

    @model_validator(mode="after")
    def _fits(self) -> SparseParityParams:
        if self.k > self.n_bits:
            raise ValueError(f"k={self.k} exceeds n_bits={self.n_bits}: the secret positions are among the bits")
        return self


@task
class SparseParity(Task):
    """Parity of ``k`` fixed secret positions (2 by default) among ``n_bits`` random bits (12).

    The positions are part of the task's identity, the same for every run; the model
    has to find them from examples alone. Learned abruptly after hidden progress.
    At the defaults the positions are 2 and 9; at any other setting they are drawn
    from the task's own fixed stream.

    Example (secret positions 2 and 9)::

        TAG 0 1 1 0 0 1 1 0 1 0 0 1 SEP | 1      (1 xor 0)
    """

    family = "sparse_parity"
    summary = "Parity of {k} fixed secret positions among {n_bits} random bits."
    version = 2
    home_tag = 7
    threshold = 0.9
    chance = 0.5
    Params = SparseParityParams
    round_space = {"n_bits": (11, 12, 14), "k": (2, 3)}
    n_bits: int
    k: int

    @property
    def question_space(self) -> int:
        return 2**self.n_bits

    @functools.cached_property
    def secret(self) -> tuple[int, ...]:
        """The secret positions, ascending."""
        if self.is_default:
            return (2, 9)
        rng = np.random.default_rng(np.random.SeedSequence(streams.TABLE, spawn_key=self.stream_key))
        return tuple(sorted(int(i) for i in rng.choice(self.n_bits, size=self.k, replace=False)))

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        bits = rng.integers(0, 2, size=(n, self.n_bits))  # (n, B)
        parity = bits[:, list(self.secret)].sum(axis=1, keepdims=True) % 2  # (n, 1)
        question = np.concatenate([vocab.sym(bits), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(parity)
