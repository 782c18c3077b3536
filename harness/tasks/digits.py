"""Numbers written as digit tokens, least significant digit first: the one writing addition and multiply share.

A number is written with a fixed count of digits, zero-padded at its most
significant end, so that every question of a setting has one length::

    digit_tokens([75, 3], 3) -> sym([[5, 7, 0], [3, 0, 0]])
"""

from __future__ import annotations

import numpy as np

from harness.tasks import vocab


def reversed_digits(values: np.ndarray, n_digits: int) -> np.ndarray:
    """(n,) non-negative ints -> (n, n_digits) decimal digits, least significant first."""
    powers = 10 ** np.arange(n_digits)  # (D,)
    return (np.asarray(values)[:, None] // powers) % 10


def digit_tokens(values: np.ndarray, n_digits: int) -> np.ndarray:
    """(n,) non-negative ints -> (n, n_digits) token ids of their digits, least significant first."""
    return vocab.sym(reversed_digits(values, n_digits))
