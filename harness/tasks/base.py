"""What every task is: a pure, seeded generator plus its metrics' reference points.

A task class is a *family*: its difficulty parameters are a validated schema
(``Params``, every field with its documented range), and one instance is the
family at one setting, under the name and tag slot a ladder gives it. The
family at its default parameters, under its own name and home slot, is the
task as it always was: the same tokens, held-out set and identity, so results
trained before families existed stay valid. Any other setting is another task:
its parameters enter the seed of its held-out set (and of any fixed table or
secret it draws), its identity string and so the hash of every ladder holding it.

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
import hashlib
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from harness.documents import Strict
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


class NoParams(Strict):
    """A family without difficulty parameters."""


# A family's question space must hold at least this many times its held-out set, so that training
# still has questions of its own once the held-out ones are set aside.
MIN_SPACE_PER_HELDOUT = 2


class Task(ABC):
    """Base class of a task family; subclasses set the class variables, ``Params`` and ``sample``.

    The fields of ``Params`` become attributes of the instance (``self.length``), so
    ``sample`` reads its setting as plain attributes.
    """

    family: ClassVar[str]  # the registry name; also the name of the family at its defaults
    version: ClassVar[int]
    home_tag: ClassVar[int]  # tag slot of the family at its defaults; a ladder may give a setting another
    threshold: ClassVar[float]  # accuracy at or above which the capability counts as present
    n_heldout: ClassVar[int] = 1024  # size of the fixed evaluation set
    recall: ClassVar[bool] = False  # True: evaluated on what it trains on (memorisation)
    Params: ClassVar[type[Strict]] = NoParams  # every field with a default and a range (ge, le)
    summary: ClassVar[str]  # what the task asks, formatted with the parameters: "Add two {n_digits}-digit numbers"
    # Per parameter, the settings `ladder round new` draws from: around those that emerge inside the cpu ladder.
    round_space: ClassVar[dict[str, tuple[int, ...]]] = {}

    def __init__(self, params: Strict | None = None, name: str | None = None, tag: int | None = None) -> None:
        self.params = self.Params() if params is None else params
        self.name = name or self.family
        self.tag = self.home_tag if tag is None else tag  # slot of this task's tag token in the vocabulary
        for key, value in self.params:
            setattr(self, key, value)

    @property
    @abstractmethod
    def chance(self) -> float:
        """Exact-match accuracy of uniform guessing over the answer alphabet."""

    @property
    def question_space(self) -> int | None:
        """How many distinct questions exist (None: too many to matter), for the held-out check."""
        return None

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` examples: (question (n, Q), answer (n, A)) as token ids, tag excluded."""

    @classmethod
    def ranges(cls) -> dict[str, tuple[int, int, int]]:
        """Parameter -> (default, lowest, highest) allowed, read from the ``Params`` schema."""
        out = {}
        for key, field in cls.Params.model_fields.items():
            low = next(m.ge for m in field.metadata if hasattr(m, "ge"))
            high = next(m.le for m in field.metadata if hasattr(m, "le"))
            out[key] = (field.default, low, high)
        return out

    @property
    def is_default(self) -> bool:
        """Whether this is the family at its default parameters (the task as it was before families)."""
        return self.params == self.Params()

    @property
    def settings(self) -> dict[str, Any]:
        """The parameters as a plain mapping."""
        return self.params.model_dump()

    @property
    def identity(self) -> int | str:
        """What the task is, for manifests and the ladder hash: the version alone at the family's defaults
        (as before families, so old hashes hold), else ``"VERSION:key=value,..."`` with every parameter."""
        if self.is_default:
            return self.version
        return f"{self.version}:" + ",".join(f"{k}={v}" for k, v in sorted(self.settings.items()))

    @property
    def stream_key(self) -> tuple[int, ...]:
        """Spawn key of this task's fixed draws (held-out set, tables, secrets, recorded examples).

        Depends on the family, its version and its parameters, not on the tag slot a ladder gives it.
        """
        if self.is_default:
            return (self.home_tag, self.version)
        digest = hashlib.sha256(json.dumps(self.settings, sort_keys=True).encode()).digest()
        return (self.home_tag, self.version, int.from_bytes(digest[:4], "big"))

    @property
    def description(self) -> str:
        """What the task asks, at this setting."""
        return self.summary.format(**self.settings)

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
        seq = np.random.SeedSequence(streams.HELDOUT, spawn_key=self.stream_key)
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

    def problems(self) -> list[str]:
        """What makes this setting unusable, beyond its schema (checked when a ladder is read)."""
        space = self.question_space
        if space is not None and space < MIN_SPACE_PER_HELDOUT * self.n_heldout:
            return [
                f"only {space:,} distinct questions exist at this setting, fewer than {MIN_SPACE_PER_HELDOUT} x the "
                f"{self.n_heldout:,} held out, which would leave training too few of its own; choose harder "
                f"parameters (the ranges: 'ladder tasks')"
            ]
        return []

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
