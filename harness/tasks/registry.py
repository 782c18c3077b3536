"""The task registry: ``@task`` registers each family, at its defaults, by its name; ``make`` builds a setting."""

from __future__ import annotations

from typing import Any

from harness.registry import Registry
from harness.tasks.base import Task

TASKS: Registry[Task] = Registry("task")


def task(cls: type[Task]) -> type[Task]:
    """Class decorator: register ``cls()`` under ``cls.family``, checking its home tag slot is free."""
    used = {TASKS.get(name).home_tag: name for name in TASKS}
    if cls.home_tag in used:
        raise ValueError(f"task {cls.family} reuses tag slot {cls.home_tag} of task {used[cls.home_tag]}")
    TASKS.register(cls.family)(cls())
    return cls


def make(family: str, settings: dict[str, Any], name: str | None = None, tag: int | None = None) -> Task:
    """Family ``family`` at ``settings`` (validated by its ``Params``; pydantic's ValidationError otherwise)."""
    cls = type(TASKS.get(family))
    return cls(cls.Params.model_validate(settings), name=name, tag=tag)
