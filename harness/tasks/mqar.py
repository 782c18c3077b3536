"""Multi-query associative recall (Zoology's MQAR)."""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from harness.documents import Strict
from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


class MQARParams(Strict):
    """n_pairs: key-value pairs (1-9: keys are distinct among 16, and the example fits 32 positions);
    n_queries: keys asked, each once (1 to n_pairs)."""

    n_pairs: int = Field(default=4, ge=1, le=9)
    n_queries: int = Field(default=2, ge=1, le=9)

    @model_validator(mode="after")
    def _fits(self) -> MQARParams:
        if self.n_queries > self.n_pairs:
            raise ValueError(
                f"n_queries={self.n_queries} exceeds n_pairs={self.n_pairs}: each query asks a different key"
            )
        return self


@task
class MQAR(Task):
    """``n_pairs`` key-value pairs (4 by default), then ``n_queries`` queried keys (2): answer each key's value.

    Keys are distinct symbols 0..15, values symbols 16..31. The queries are in
    the question, the values in order in the answer, so recalling the j-th value
    means finding the j-th query and then its pair: data-dependent routing that
    separates attention from fixed token mixing.

    Example (pairs 3:20 9:31 5:16 12:16, queries 9 3)::

        TAG 3 20 9 31 5 16 12 16 9 3 SEP | 31 20
    """

    family = "mqar"
    summary = "{n_pairs} key-value pairs, then {n_queries} queried keys: answer each key's value."
    version = 2
    home_tag = 6
    threshold = 0.5
    n_keys = n_values = 16
    Params = MQARParams
    round_space = {"n_pairs": (2, 3, 4, 6), "n_queries": (1, 2)}
    n_pairs: int
    n_queries: int

    @property
    def chance(self) -> float:
        return float(self.n_values) ** -self.n_queries

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        keys = np.argsort(rng.random((n, self.n_keys)), axis=1)[:, : self.n_pairs]  # (n, P) distinct
        values = self.n_keys + rng.integers(0, self.n_values, size=(n, self.n_pairs))  # (n, P)
        pairs = np.stack([keys, values], axis=2).reshape(n, 2 * self.n_pairs)  # (n, 2P) k v k v ...
        which = np.argsort(rng.random((n, self.n_pairs)), axis=1)[:, : self.n_queries]  # (n, Q)
        queries = np.take_along_axis(keys, which, axis=1)  # (n, Q)
        answers = np.take_along_axis(values, which, axis=1)  # (n, Q)
        question = np.concatenate([vocab.sym(pairs), vocab.sym(queries), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(answers)
