"""Toy jobs for the executor tests, in a module of their own so spawned workers import nothing heavy."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Toy:
    n: int
    threads: int = 1
    gpus: int = 0

    @property
    def label(self) -> str:
        return f"toy {self.n}"


def square_or_die(job: Toy) -> int:
    """Module level, so spawned workers can unpickle it; job 3 kills its own worker."""
    if job.n == 3:
        os._exit(9)
    return job.n * job.n
