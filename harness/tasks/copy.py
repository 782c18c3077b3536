"""Copy: repeat a string of symbols."""

from __future__ import annotations

import numpy as np

from harness.tasks.registry import task
from harness.tasks.strings import StringTask


@task
class Copy(StringTask):
    """Repeat a string of 8 symbols (alphabet 16) after the separator.

    Example (symbols as numbers, answer after ``|``)::

        TAG 3 14 0 7 7 2 9 11 SEP | 3 14 0 7 7 2 9 11
    """

    family = "copy"
    summary = "Repeat a string of {length} symbols (alphabet {alphabet}) after the separator."
    version = 1
    home_tag = 0
    threshold = 0.5

    def transform(self, x: np.ndarray) -> np.ndarray:
        return x
