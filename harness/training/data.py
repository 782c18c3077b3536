"""The task mixture as training batches and a fixed evaluation set, and its LightningDataModule.

Every training batch has the same number of rows of each task (the mixture
weights apportioned over the batch), and batch ``step`` of run ``seed`` is a
pure function of (seed, step): a run is reproducible and any batch can be
regenerated on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from harness.tasks import TASKS, Examples, Task, vocab
from harness.tasks.base import train_rng


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
    def build(cls, weights: dict[str, float], batch_size: int) -> Mixture:
        tasks = tuple(TASKS.get(name) for name in weights)
        return cls(tasks, tuple(apportion(list(weights.values()), batch_size)))

    @property
    def seq_len(self) -> int:
        return max(t.seq_len for t in self.tasks)

    @property
    def tokens_per_step(self) -> int:
        """Real (non-padding) input tokens the model reads in one training batch."""
        return sum(n * (t.seq_len - 1) for t, n in zip(self.tasks, self.counts))

    def train_batch(self, seed: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``step`` of run ``seed``: tokens (B, T) int64 and answer mask (B, T) bool."""
        blocks = [
            pad(t.train_examples(train_rng(seed, step, t.tag), n), self.seq_len)
            for t, n in zip(self.tasks, self.counts)
        ]
        return _stack(blocks)

    def eval_set(self, per_task: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The first ``per_task`` held-out examples of each task (all, if it has fewer).

        Returns tokens (B, T), answer mask (B, T) and task index (B,).
        """
        blocks = [
            pad(Examples(t.heldout.tokens[:per_task], t.heldout.answer_mask[:per_task]), self.seq_len)
            for t in self.tasks
        ]
        tokens, answer_mask = _stack(blocks)
        index = torch.repeat_interleave(torch.arange(len(self.tasks)), torch.tensor([len(b) for b in blocks]))
        return tokens, answer_mask, index


def _stack(blocks: list[Examples]) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.from_numpy(np.concatenate([b.tokens for b in blocks]))
    answer_mask = torch.from_numpy(np.concatenate([b.answer_mask for b in blocks]))
    return tokens, answer_mask


class MixtureStream(IterableDataset):
    """Yields the training batches of steps ``start .. steps-1`` of one run.

    With ``world`` > 1 devices, device ``rank`` gets rows ``rank, rank + world, ...``
    of every batch, so the devices together see exactly the one-device batch.
    """

    def __init__(self, mixture: Mixture, seed: int, steps: int, start: int = 0, rank: int = 0, world: int = 1) -> None:
        self.mixture, self.seed, self.steps, self.start = mixture, seed, steps, start
        self.rank, self.world = rank, world

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for step in range(self.start, self.steps):
            tokens, answer_mask = self.mixture.train_batch(self.seed, step)  # (B, T) each
            yield tokens[self.rank :: self.world], answer_mask[self.rank :: self.world]  # (B / world, T)


class MixtureData(L.LightningDataModule):
    """Training data of one run, split over devices; evaluation data is held by the ``Evaluator`` callback."""

    def __init__(self, mixture: Mixture, seed: int, steps: int) -> None:
        super().__init__()
        self.mixture, self.seed, self.steps = mixture, seed, steps

    def train_dataloader(self) -> DataLoader:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer is not None else (0, 1)
        stream = MixtureStream(self.mixture, self.seed, self.steps, rank=rank, world=world)
        return DataLoader(stream, batch_size=None, num_workers=0)
