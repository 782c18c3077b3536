"""What every task is: a pure, seeded generator plus its metrics' reference points.

A task yields sequences ``[TAG, question..., answer...]`` of one fixed length and a
mask over the answer tokens; the model is scored only on those. Held-out
evaluation examples are a fixed set per task version, drawn from a seed range
that training never uses, and training batches reject any row that equals a
held-out row, so no evaluation example can occur in training data. The one
exception is a recall task (``recall = True``): remembering what was trained on
is its capability, so its evaluation set is its training content.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from harness.tasks import streams, vocab


@dataclass(frozen=True)
class Examples:
    """A block of examples of one task.

    tokens: (n, L) int64 token ids, the task tag first.
    answer_mask: (n, L) bool, True where the token is part of the answer.
    """

    tokens: np.ndarray
    answer_mask: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


class Task(ABC):
    """Base class of a registered task; subclasses set the class variables and ``sample``."""

    name: ClassVar[str]
    version: ClassVar[int]
    tag: ClassVar[int]  # slot of this task's tag token in the vocabulary
    threshold: ClassVar[float]  # accuracy at or above which the capability counts as present
    chance: ClassVar[float]  # exact-match accuracy of uniform guessing over the answer alphabet
    n_heldout: ClassVar[int] = 1024  # size of the fixed evaluation set
    recall: ClassVar[bool] = False  # True: evaluated on what it trains on (memorisation)

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` examples: (question (n, Q), answer (n, A)) as token ids, tag excluded."""

    @property
    def description(self) -> str:
        """First line of the class docstring."""
        return (self.__doc__ or "").strip().splitlines()[0]

    @functools.cached_property
    def answer_len(self) -> int:
        """Number of answer tokens of one example."""
        return int(self.examples(np.random.default_rng(0), 1).answer_mask.sum())

    @property
    def loss_threshold(self) -> float:
        """Per-token answer loss (nats) at which the whole right answer gets probability ``threshold``.

        The loss is the continuous counterpart of exact match: a mean per-token
        loss of -ln(threshold) / answer_len means the model's probability of the
        entire correct answer is ``threshold`` (geometric mean over examples).
        """
        return -math.log(self.threshold) / self.answer_len

    @functools.cached_property
    def seq_len(self) -> int:
        """Length of one example, tag included."""
        return self.examples(np.random.default_rng(0), 1).tokens.shape[1]

    def examples(self, rng: np.random.Generator, n: int) -> Examples:
        """``n`` freshly drawn examples with the tag prepended and the answer mask."""
        question, answer = self.sample(rng, n)
        tags = np.full((n, 1), vocab.tag(self.tag), dtype=np.int64)
        tokens = np.concatenate([tags, question, answer], axis=1)
        mask = np.zeros(tokens.shape, dtype=bool)
        mask[:, 1 + question.shape[1] :] = True
        return Examples(tokens, mask)

    @functools.cached_property
    def heldout(self) -> Examples:
        """The fixed evaluation set: ``n_heldout`` distinct examples, same for every run."""
        seq = np.random.SeedSequence(streams.HELDOUT, spawn_key=(self.tag, self.version))
        rng = np.random.default_rng(seq)
        blocks: list[Examples] = []
        for _ in range(100):
            blocks.append(self.examples(rng, self.n_heldout))
            tokens = np.concatenate([b.tokens for b in blocks])
            _, first = np.unique(tokens, axis=0, return_index=True)
            if len(first) >= self.n_heldout:
                keep = np.sort(first)[: self.n_heldout]  # first occurrences, in draw order
                answer_mask = np.concatenate([b.answer_mask for b in blocks])
                return Examples(tokens[keep], answer_mask[keep])
        raise RuntimeError(f"task {self.name}: fewer than {self.n_heldout} distinct examples exist")

    @functools.cached_property
    def _heldout_keys(self) -> frozenset[bytes]:
        return frozenset(row.tobytes() for row in self.heldout.tokens)

    def train_examples(self, rng: np.random.Generator, n: int) -> Examples:
        """``n`` training examples, none equal to a held-out example (rejected rows are redrawn)."""
        out = self.examples(rng, n)
        if self.recall:
            return out
        tokens = out.tokens.copy()
        bad = [i for i, row in enumerate(tokens) if row.tobytes() in self._heldout_keys]
        while bad:
            fresh = self.examples(rng, len(bad)).tokens
            tokens[bad] = fresh
            bad = [i for i in bad if tokens[i].tobytes() in self._heldout_keys]
        return Examples(tokens, out.answer_mask)


def train_rng(seed: int, step: int, tag: int) -> np.random.Generator:
    """Generator for one task's rows of training batch ``step`` of run ``seed``.

    Keyed by (seed, step, task) so a batch can be regenerated on its own, and in
    the TRAIN stream, disjoint from the HELDOUT stream by construction.
    """
    return np.random.default_rng(np.random.SeedSequence(streams.TRAIN, spawn_key=(seed, step, tag)))
