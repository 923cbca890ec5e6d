"""The one registry style: parts (losses, heads, encoders, calibrators) looked up by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from surematch.errors import InputError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named parts of one kind; an unknown name raises InputError naming the option and choices.

        LOSSES = Registry("loss", "losses", option="loss.name")
        LOSSES.add("supcon", SupConLoss)
        LOSSES["supcon"]          # the class
        LOSSES["nosuch"]          # InputError: field "loss.name": unknown loss 'nosuch'; ...

    It is a read-only mapping (iterate, `in`, `.items()`) once filled by its package.
    """

    def __init__(self, what: str, plural: str, *, option: str) -> None:
        self.what, self.plural, self.option = what, plural, option
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def __getitem__(self, name: object) -> T:
        if not isinstance(name, str) or name not in self._entries:
            raise self.unknown(name)
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def get(self, name: object, default: object = None) -> T | object:  # type: ignore[override]
        return self._entries.get(name, default) if isinstance(name, str) else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def unknown(self, name: object, option: str | None = None) -> InputError:
        """The error for a name that is not registered, naming `option` (default: its own)."""
        return InputError(f"unknown {self.what} {name!r}; known {self.plural}: "
                          f"{', '.join(sorted(self._entries))}", field=option or self.option)

    def check(self, name: object, option: str | None = None) -> str:
        """`name` if registered, else the InputError naming `option` and the choices."""
        if name not in self:
            raise self.unknown(name, option)
        return str(name)
