"""The source tree both readers produce: values that remember where they were written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Loc:
    """A position in a spec file (1-based line and column)."""

    line: int
    col: int


@dataclass
class Scalar:
    """A leaf value. `kind` is 'string', 'number', 'ident' (bare word), 'bool' or 'null'."""

    value: Any
    kind: str
    loc: Loc


@dataclass
class Entry:
    """One `name: value` or `name { ... }` occurrence inside a message."""

    name: str
    value: Node
    loc: Loc


@dataclass
class Message:
    """A protobuf message block or a YAML mapping: ordered entries, names may repeat.

    `kv_maps` is True for protobuf text, where a map field is written as repeated
    `{ key: ... value: ... }` blocks; in YAML a map field is a plain mapping.
    """

    entries: list[Entry]
    loc: Loc
    kv_maps: bool = True


@dataclass
class Sequence:
    """A YAML list or a protobuf `[a, b, c]` list."""

    items: list[Node] = field(default_factory=list)
    loc: Loc = Loc(1, 1)


Node = Scalar | Message | Sequence
