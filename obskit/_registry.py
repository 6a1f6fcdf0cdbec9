"""Small explicit registries (``register`` / ``get``) for methods, sources and sinks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from obskit.exceptions import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; an unknown name lists the known ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        self._entries[name] = entry
        return entry

    def decorator(self, name: str) -> Callable[[T], T]:
        def wrap(entry: T) -> T:
            return self.register(name, entry)

        return wrap

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._entries))}",
                key=self.kind,
            ) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))
