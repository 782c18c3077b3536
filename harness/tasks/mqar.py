"""Multi-query associative recall (Zoology's MQAR)."""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab
from harness.tasks.base import Task
from harness.tasks.registry import task


@task
class MQAR(Task):
    """Four key-value pairs, then two queried keys: answer each key's value.

    Keys are distinct symbols 0..15, values symbols 16..31. The queries are in
    the question, the values in order in the answer, so recalling the j-th value
    means finding the j-th query and then its pair: data-dependent routing that
    separates attention from fixed token mixing.

    Example (pairs 3:20 9:31 5:16 12:16, queries 9 3)::

        TAG 3 20 9 31 5 16 12 16 9 3 SEP | 31 20
    """

    name = "mqar"
    version = 2
    tag = 6
    threshold = 0.5
    n_pairs, n_queries = 4, 2
    n_keys = n_values = 16
    chance = n_values**-n_queries

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        keys = np.argsort(rng.random((n, self.n_keys)), axis=1)[:, : self.n_pairs]  # (n, P) distinct
        values = self.n_keys + rng.integers(0, self.n_values, size=(n, self.n_pairs))  # (n, P)
        pairs = np.stack([keys, values], axis=2).reshape(n, 2 * self.n_pairs)  # (n, 2P) k v k v ...
        which = np.argsort(rng.random((n, self.n_pairs)), axis=1)[:, : self.n_queries]  # (n, Q)
        queries = np.take_along_axis(keys, which, axis=1)  # (n, Q)
        answers = np.take_along_axis(values, which, axis=1)  # (n, Q)
        question = np.concatenate([vocab.sym(pairs), vocab.sym(queries), np.full((n, 1), vocab.SEP)], axis=1)
        return question, vocab.sym(answers)
