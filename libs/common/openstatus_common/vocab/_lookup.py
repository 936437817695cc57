"""Shared machinery for vocabulary tables that accept every surface's spelling of a value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

E = TypeVar("E", bound=StrEnum)


class Vocabulary(Generic[E]):
    """Maps every spelling of an enum's members (value, name, wire name, number, aliases) to the member.

    ``wire_prefix`` + the member's proto name is its wire name (``PERIODICITY_1M``); ``proto_names``
    overrides the proto name where the Python name differs (default: the member name); ``numbers`` gives
    the proto numbers; ``aliases`` adds surface-specific spellings (``not_eq`` for ``neq``).
    """

    def __init__(
        self,
        enum: type[E],
        *,
        wire_prefix: str,
        numbers: Mapping[E, int],
        proto_names: Mapping[E, str] | None = None,
        aliases: Mapping[str, E] | None = None,
        label: str,
    ) -> None:
        self.enum = enum
        self.wire_prefix = wire_prefix
        self.numbers = dict(numbers)
        self.label = label
        self.proto_names = {member: (proto_names or {}).get(member, member.name) for member in enum}
        self._by_number = {number: member for member, number in self.numbers.items()}
        lookup: dict[str, E] = {}
        for member in enum:
            proto = self.proto_names[member]
            for spelling in (member.value, member.name, proto, f"{wire_prefix}{proto}"):
                lookup[spelling.lower()] = member
            if member in self.numbers:
                lookup[str(self.numbers[member])] = member
        for alias, member in (aliases or {}).items():
            lookup[alias.lower()] = member
        self._lookup = lookup

    def parse(self, value: object) -> E:
        if isinstance(value, self.enum):
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"invalid {self.label} {value!r}")
        member = self._lookup.get(str(value).strip().lower())
        if member is None:
            raise ValueError(f"invalid {self.label} {value!r}; expected one of: {self.choices()}")
        return member

    def wire(self, member: E) -> str:
        return f"{self.wire_prefix}{self.proto_names[member]}"

    def number(self, member: E) -> int:
        return self.numbers[member]

    def from_number(self, number: int) -> E:
        try:
            return self._by_number[number]
        except KeyError:
            raise ValueError(f"invalid {self.label} number {number}") from None

    def choices(self, members: Iterable[E] | None = None) -> str:
        return ", ".join(m.value for m in (members if members is not None else self.enum))
