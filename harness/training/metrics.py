"""The two metrics every task reports, computed on answer tokens only.

accuracy: exact match of the whole answer. With teacher forcing, every answer
  position's argmax being right is the same event as greedy decoding producing
  the whole answer, so one forward pass measures it.
loss: mean per-token cross-entropy (nats) over answer tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def answer_loss_sum(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy over masked positions. logits (N, V) at the masked positions in row-major
    order (as the model gives them when asked for those positions alone), targets (B, T), mask (B, T)
    bool with N True.

    A sum rather than a mean, so that a batch run in several length groups adds its
    groups' sums and divides once by all its answer tokens.
    """
    return F.cross_entropy(logits, targets[mask], reduction="sum")


def per_example(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: (summed answer-token loss (B,), exact match of the whole answer (B,) bool)."""
    ce = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (B, T)
    loss_sum = (ce * mask).sum(dim=1)  # (B,)
    wrong = (logits.argmax(dim=-1) != targets) & mask  # (B, T)
    return loss_sum, ~wrong.any(dim=1)
