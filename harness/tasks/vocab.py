"""The one token vocabulary shared by every task, so one model can learn the whole mixture.

Layout (fixed, so parameter counts never change when a task is added)::

    0            PAD   padding after the end of a shorter task's sequence
    1            SEP   separates a question from its answer
    2 .. 17      TAG   one task-tag token per task (16 slots)
    18 .. 49     SYM   32 data symbols; digits and bits are symbols 0..9 and 0..1
"""

from __future__ import annotations

import numpy as np

PAD = 0
SEP = 1
N_TAGS = 16
TAG0 = 2
N_SYMBOLS = 32
SYM0 = TAG0 + N_TAGS
D_VOCAB = SYM0 + N_SYMBOLS


def tag(index: int) -> int:
    """Token id of the task tag with slot ``index``."""
    if not 0 <= index < N_TAGS:
        raise ValueError(f"task tag slot {index} outside 0..{N_TAGS - 1}")
    return TAG0 + index


def sym(values: np.ndarray | int) -> np.ndarray:
    """Token ids of data symbols (``values`` in 0..31)."""
    return np.asarray(values, dtype=np.int64) + SYM0


def unsym(tokens: np.ndarray) -> np.ndarray:
    """Data-symbol values of token ids (inverse of ``sym``)."""
    return np.asarray(tokens, dtype=np.int64) - SYM0
