"""One small generic registry, used for tasks, model families and executors.

Registration is by decorator; lookup of an unknown name raises a ``UserError``
that lists the known names and suggests the closest one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from harness.errors import UserError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects of one kind (tasks, model families, executors)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    @classmethod
    def of(cls, kind: str, items: dict[str, T]) -> Registry[T]:
        """A registry holding ``items`` (a plain mapping kept by a package that has no registry of its own)."""
        registry = cls(kind)
        for name, obj in items.items():
            registry.register(name)(obj)
        return registry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@TASKS.register("copy")`` registers the decorated object."""

        def decorate(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = obj
            return obj

        return decorate

    def get(self, name: str) -> T:
        """The object registered as ``name``; a "did you mean" ``UserError`` otherwise."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise UserError(
                f"Unknown {self.kind} '{name}'.{did_you_mean(name, self._items)} Known {self.kind}s: {known}."
            ) from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
