"""Registries for variants found by name (sources, stores), as papermill does for engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import NotFoundError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping of names to implementations.

    Parameters
    ----------
    kind : str
        What is registered ("source", "store"...), used in error messages.

    Examples
    --------
    >>> r = Registry("source")
    >>> @r.register("demo")
    ... class Demo: ...
    >>> r.get("demo").__name__
    'Demo'
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise NotFoundError(f"unknown {self.kind} {name!r}; known {self.kind}s: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
