"""Each task's probe: a fixed subset of its held-out set, and the one forward pass every per-task measure reads.

The probe is the first ``PROBE_EXAMPLES`` rows of ``Task.heldout`` (drawn from the task's fixed HELDOUT stream,
``harness.tasks.streams``), the same for every checkpoint, so the measures are a pure function of the weights.
They are also the first rows the curves' evaluation reads (``Mixture.eval_sets``), so a probe measure and a
curve at the same step speak about the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from harness.neurons.measures.heads import forward_with_patterns
from harness.tasks import Task

PROBE_EXAMPLES = 64


@dataclass(frozen=True)
class TaskProbe:
    """A task with its probe examples. tokens (n, L) int64, answer_mask (n, L) bool: held-out rows, tag first."""

    task: Task
    tokens: torch.Tensor
    answer_mask: torch.Tensor

    @classmethod
    def of(cls, task: Task, rows: int = PROBE_EXAMPLES) -> TaskProbe:
        held = task.heldout
        return cls(task, torch.from_numpy(held.tokens[:rows]), torch.from_numpy(held.answer_mask[:rows]))

    @property
    def input(self) -> torch.Tensor:
        """(n, T = L - 1): what the model reads."""
        return self.tokens[:, :-1]

    @property
    def target(self) -> torch.Tensor:
        """(n, T): the next token at each position."""
        return self.tokens[:, 1:]

    @property
    def target_mask(self) -> torch.Tensor:
        """(n, T) bool: the positions whose next token is an answer token (where the answer is predicted)."""
        return self.answer_mask[:, 1:]

    @property
    def answer_positions(self) -> torch.Tensor:
        """(A,) the input positions that predict answer tokens 0 .. A-1 (every row of a task has the same layout)."""
        return torch.nonzero(self.target_mask[0]).squeeze(1)


@dataclass(frozen=True)
class Run:
    """One forward pass on a probe: logits (n, T, d_vocab), and each attention layer's pattern by layer index."""

    logits: torch.Tensor
    patterns: dict[int, torch.Tensor]

    @classmethod
    def of(cls, model: nn.Module, probe: TaskProbe) -> Run:
        logits, patterns = forward_with_patterns(model, probe.input)
        return cls(logits.float(), patterns)
