"""The task mixture as training batches and a fixed evaluation set, and its LightningDataModule.

Every training batch has the same number of rows of each task (the mixture
weights apportioned over the batch), and batch ``step`` of run ``seed`` is a
pure function of (seed, step): a run is reproducible and any batch can be
regenerated on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from harness.tasks import TASKS, Examples, Task, vocab
from harness.tasks.base import train_rng
from harness.training.batches import Batches

if TYPE_CHECKING:
    from harness.ladders.ladder import Ladder


def apportion(weights: list[float], total: int) -> list[int]:
    """Split ``total`` rows in proportion to ``weights``, at least one each (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    spare = total - len(w)
    exact = spare * w / w.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return (counts + 1).tolist()


def pad(block: Examples, length: int) -> Examples:
    """Right-pad a block to ``length`` tokens with PAD (not part of any answer)."""
    extra = length - block.tokens.shape[1]
    tokens = np.pad(block.tokens, ((0, 0), (0, extra)), constant_values=vocab.PAD)
    answer_mask = np.pad(block.answer_mask, ((0, 0), (0, extra)), constant_values=False)
    return Examples(tokens, answer_mask)


@dataclass(frozen=True)
class Mixture:
    """Tasks of a ladder with their rows per batch; sequences padded to the longest task."""

    tasks: tuple[Task, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, ladder: Ladder, batch_size: int | None = None) -> Mixture:
        """A ladder's tasks, at their settings, apportioned over ``batch_size`` rows (default: the ladder's)."""
        weights = ladder.spec.weights
        rows = apportion([weights[t.name] for t in ladder.tasks], batch_size or ladder.spec.training.batch_size)
        return cls(ladder.tasks, tuple(rows))

    @classmethod
    def build(cls, weights: dict[str, float], batch_size: int) -> Mixture:
        """Registered families at their defaults, by name, with ``weights`` apportioned over ``batch_size`` rows."""
        return cls(tuple(TASKS.get(name) for name in weights), tuple(apportion(list(weights.values()), batch_size)))

    @property
    def seq_len(self) -> int:
        return max(t.seq_len for t in self.tasks)

    def rows_by_length(self) -> dict[int, int]:
        """Tokens per example -> rows of a batch that long (tasks of one length together)."""
        rows: dict[int, int] = {}
        for task, n in zip(self.tasks, self.counts):
            rows[task.seq_len] = rows.get(task.seq_len, 0) + n
        return rows

    @property
    def tokens_per_step(self) -> int:
        """Real (non-padding) input tokens the model reads in one training batch."""
        return sum(n * (t.seq_len - 1) for t, n in zip(self.tasks, self.counts))

    def train_arrays(self, seed: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``step`` of run ``seed`` as drawn: tokens (B, T) int64 and answer mask (B, T) bool."""
        blocks = [
            pad(t.train_examples(train_rng(seed, step, t.tag), n), self.seq_len)
            for t, n in zip(self.tasks, self.counts)
        ]
        return np.concatenate([b.tokens for b in blocks]), np.concatenate([b.answer_mask for b in blocks])

    def train_batch(self, seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``step`` of run ``seed``: tokens (B, T) int64 and answer mask (B, T) bool."""
        tokens, answer_mask = self.train_arrays(seed, step)
        return torch.from_numpy(tokens), torch.from_numpy(answer_mask)

    def eval_sets(self, per_task: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per task, its first ``per_task`` held-out examples (all, if it has fewer), unpadded.

        Each is tokens (n, L) int64 and answer mask (n, L) bool, L the task's own length.
        """
        return [
            (torch.from_numpy(t.heldout.tokens[:per_task]), torch.from_numpy(t.heldout.answer_mask[:per_task]))
            for t in self.tasks
        ]


class MixtureStream(IterableDataset):
    """Yields the training batches of steps ``start .. steps-1`` of one run, read from the seed's shared batches.

    With ``world`` > 1 devices, device ``rank`` gets rows ``rank, rank + world, ...``
    of every batch, so the devices together see exactly the one-device batch.
    """

    def __init__(self, batches: Batches, start: int = 0, rank: int = 0, world: int = 1) -> None:
        self.batches, self.start, self.rank, self.world = batches, start, rank, world

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for step in range(self.start, len(self.batches)):
            rows = slice(self.rank, None, self.world)
            tokens = torch.from_numpy(self.batches.tokens[step, rows].astype(np.int64))  # (B / world, T)
            yield tokens, torch.from_numpy(self.batches.answer_mask[step, rows])  # (B / world, T) each


class MixtureData(L.LightningDataModule):
    """Training data of one run, split over devices; evaluation data is held by the ``Evaluator`` callback."""

    def __init__(self, batches: Batches) -> None:
        super().__init__()
        self.batches = batches

    def train_dataloader(self) -> DataLoader:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer is not None else (0, 1)
        return DataLoader(MixtureStream(self.batches, rank=rank, world=world), batch_size=None, num_workers=0)
