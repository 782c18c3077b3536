"""Sort: write a string of symbols in ascending order."""

from __future__ import annotations

import numpy as np

from harness.tasks.registry import task
from harness.tasks.strings import StringTask


@task
class Sort(StringTask):
    """Sort 8 symbols (alphabet 16, repeats allowed) in ascending order.

    Example::

        TAG 3 14 0 7 7 2 9 11 SEP | 0 2 3 7 7 9 11 14
    """

    family = "sort"
    summary = "Sort {length} symbols (alphabet {alphabet}, repeats allowed) in ascending order."
    version = 1
    home_tag = 2
    threshold = 0.5

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.sort(x, axis=1)
