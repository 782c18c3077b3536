"""Log-spaced step schedules for evaluation and checkpoints, and the learning-rate curve."""

from __future__ import annotations

import math

import numpy as np


def log_steps(total: int, n: int, first: int = 1) -> list[int]:
    """About ``n`` distinct steps: 0, then log-spaced from ``first`` to ``total`` (both included).

    Log spacing puts most points early, where learning curves change fastest.
    """
    inner = np.round(np.geomspace(min(first, total), total, max(n - 1, 1))).astype(int)
    return sorted({0, total, *inner.tolist()})


def snap(targets: list[int], allowed: list[int]) -> list[int]:
    """Each target replaced by the nearest allowed step (deduplicated, sorted)."""
    arr = np.asarray(allowed)
    return sorted({int(arr[np.abs(arr - t).argmin()]) for t in targets})


def lr_factor(step: int, warmup: int, total: int, floor: float) -> float:
    """Multiplier of the peak learning rate: linear warmup, then cosine decay to ``floor``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
