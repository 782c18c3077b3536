from __future__ import annotations

import math

import pytest
import torch

from harness.training.metrics import answer_loss_sum, per_example


def test_exact_match_and_loss_by_hand():
    # two rows, three positions, vocabulary of 2; answers at positions 1 and 2
    logits = torch.tensor([[[0.0, 5.0], [5.0, 0.0], [0.0, 5.0]], [[0.0, 5.0], [5.0, 0.0], [5.0, 0.0]]])
    targets = torch.tensor([[1, 0, 1], [1, 0, 1]])
    mask = torch.tensor([[False, True, True], [False, True, True]])
    loss_sum, exact = per_example(logits, targets, mask)
    assert exact.tolist() == [True, False]  # row 2 gets position 2 wrong
    right, wrong = -math.log(1 / (1 + math.exp(-5))), -math.log(1 / (1 + math.exp(5)))
    assert torch.allclose(loss_sum, torch.tensor([2 * right, right + wrong]))
    assert answer_loss_sum(logits[mask], targets, mask).item() == pytest.approx(3 * right + wrong, rel=1e-6)


def test_masked_positions_do_not_count():
    logits = torch.zeros(1, 3, 4)
    logits[0, 0, 3] = 9.0  # wrong at an unmasked position
    targets = torch.tensor([[1, 2, 0]])
    mask = torch.tensor([[False, True, True]])
    logits[0, 1, 2] = 9.0
    logits[0, 2, 0] = 9.0
    assert per_example(logits, targets, mask)[1].item() is True
