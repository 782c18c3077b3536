"""The task registry: ``@task`` registers one instance of a ``Task`` subclass by its name."""

from __future__ import annotations

from harness.registry import Registry
from harness.tasks.base import Task

TASKS: Registry[Task] = Registry("task")


def task(cls: type[Task]) -> type[Task]:
    """Class decorator: register ``cls()`` under ``cls.name``, checking its tag slot is free."""
    used = {TASKS.get(name).tag: name for name in TASKS}
    if cls.tag in used:
        raise ValueError(f"task {cls.name} reuses tag slot {cls.tag} of task {used[cls.tag]}")
    TASKS.register(cls.name)(cls())
    return cls
