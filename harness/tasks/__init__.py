"""Synthetic tasks, one file each; importing this package registers them all in ``TASKS``."""

from harness.tasks import addition, copy, facts, induction, mod_add, mqar, multiply, reverse, sort, sparse_parity  # noqa: F401
from harness.tasks.base import Examples, Task
from harness.tasks.registry import TASKS

__all__ = ["TASKS", "Examples", "Task"]
