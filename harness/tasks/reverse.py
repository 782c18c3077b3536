"""Reverse: write a string of symbols backwards."""

from __future__ import annotations

import numpy as np

from harness.tasks.registry import task
from harness.tasks.strings import StringTask


@task
class Reverse(StringTask):
    """Write a string of 8 symbols (alphabet 16) backwards after the separator.

    Example::

        TAG 3 14 0 7 7 2 9 11 SEP | 11 9 2 7 7 0 14 3
    """

    family = "reverse"
    summary = "Write a string of {length} symbols (alphabet {alphabet}) backwards after the separator."
    version = 1
    home_tag = 1
    threshold = 0.5

    def transform(self, x: np.ndarray) -> np.ndarray:
        return x[:, ::-1]
