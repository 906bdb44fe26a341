"""Turns a located source tree into the plain dict a schema expects, checking field names.

The same step serves protobuf text and YAML: repeated fields become lists, `{key value}` blocks
(or YAML mappings) become dicts, bare identifiers become enum names or booleans. Every value's
location is recorded under its pydantic error path so validation errors can point into the file.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from taokit.errors import SpecError, did_you_mean
from taokit.spec.annotations import FieldShape, is_bool, is_str, literal_values, shape_of, spec_fields, strip
from taokit.spec.nodes import Entry, Loc, Message, Node, Scalar, Sequence

log = logging.getLogger(__name__)

Path = tuple[str | int, ...]
_TRUE = {"true", "True", "TRUE", "t"}
_FALSE = {"false", "False", "FALSE", "f"}
# TAO's DetectNet_v2 and classification protos hold only int32 and uint32 integers (no 64-bit field), so
# protobuf's text parser refuses anything outside the union of the two ranges.
_INT32_MIN, _UINT32_MAX = -(2**31), 2**32 - 1


def format_path(path: Path) -> str:
    """Render an error path the way users write overrides: `a.b[2].c`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


suggest = did_you_mean  # the spec readers' name for it


class Shaper:
    """Walks a source tree against a pydantic model class; collects locations as it goes."""

    def __init__(self, file: str | None, protobuf: bool = False) -> None:
        self.file = file
        self.protobuf = protobuf  # protobuf text: refuse what NVIDIA's parser refuses (YAML coerces as OmegaConf)
        self.locs: dict[Path, Loc] = {}

    def _error(self, reason: str, loc: Loc | None, path: Path) -> SpecError:
        return SpecError(
            reason,
            file=self.file,
            line=loc.line if loc else None,
            col=loc.col if loc else None,
            key=format_path(path),
        )

    def message(self, node: Node, model: type[BaseModel], path: Path) -> dict[str, Any]:
        if not isinstance(node, Message):
            raise self._error(f"expected a block of fields for {model.__name__}", _node_loc(node), path)
        fields = spec_fields(model)
        grouped: dict[str, list[Entry]] = {}
        for entry in node.entries:
            if entry.name not in fields:
                hint = suggest(entry.name, list(fields))
                raise self._error(f"unknown field '{entry.name}'{hint}", entry.loc, path)
            grouped.setdefault(entry.name, []).append(entry)
        out: dict[str, Any] = {}
        for name, entries in grouped.items():
            sub = (*path, name)
            self.locs[sub] = entries[0].loc
            value = self._field(entries, shape_of(fields[name][1].annotation), sub)
            if value is not _UNSET:
                out[name] = value
        return out

    def _field(self, entries: list[Entry], shape: FieldShape, path: Path) -> Any:
        if shape.kind == "list":
            items: list[Node] = []
            for entry in entries:
                items.extend(entry.value.items if isinstance(entry.value, Sequence) else [entry.value])
            result = []
            for i, item in enumerate(items):
                self.locs[(*path, i)] = _node_loc(item)
                result.append(self._value(item, shape_of(shape.inner), (*path, i)))
            return result
        if shape.kind == "map":
            return self._map(entries, shape, path)
        if shape.kind == "message":
            if all(isinstance(e.value, Scalar) and e.value.kind == "null" for e in entries):
                return _UNSET
            merged = _merge_messages(entries)
            return self._value(merged, shape, path)
        if len(entries) > 1:
            log.warning("%s: field '%s' is given %d times; the last value is used",
                        _where(self.file, entries[-1].loc), format_path(path), len(entries))
        return self._value(entries[-1].value, shape, path)

    def _map(self, entries: list[Entry], shape: FieldShape, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        value_shape = shape_of(shape.inner)
        for entry in entries:
            node = entry.value
            if isinstance(node, Message) and not node.kv_maps:
                pairs = [(Scalar(e.name, "string", e.loc), e.value, e.loc) for e in node.entries]
            else:
                blocks = node.items if isinstance(node, Sequence) else [node]
                pairs = [self._kv_block(b, path) for b in blocks]
            for key_node, value_node, loc in pairs:
                key = str(key_node.value)
                self.locs[(*path, key)] = loc
                out[key] = self._value(value_node, value_shape, (*path, key)) if value_node else None
        return {k: v for k, v in out.items() if v is not _UNSET}

    def _kv_block(self, block: Node, path: Path) -> tuple[Scalar, Node | None, Loc]:
        if not isinstance(block, Message):
            raise self._error("expected a { key: ... value: ... } block", _node_loc(block), path)
        key = value = None
        for e in block.entries:
            if e.name == "key" and isinstance(e.value, Scalar):
                key = e.value
            elif e.name == "value":
                value = e.value
            else:
                raise self._error(f"unknown field '{e.name}' in a map entry (expected 'key' and 'value')",
                                  e.loc, path)
        if key is None:
            raise self._error("map entry without a 'key'", block.loc, path)
        return key, value, key.loc

    def _value(self, node: Node, shape: FieldShape, path: Path) -> Any:
        if shape.kind == "message":
            return self.message(node, shape.inner, path)
        if shape.kind in ("list", "map"):
            raise self._error("nested lists and maps are not supported here", _node_loc(node), path)
        if not isinstance(node, Scalar):
            raise self._error("expected a single value, found a block or list", _node_loc(node), path)
        return self._scalar(node, shape.inner, path)

    def _scalar(self, node: Scalar, annotation: Any, path: Path) -> Any:
        if node.kind == "null":
            return _UNSET
        choices = literal_values(annotation)
        if node.kind == "ident":
            if is_bool(annotation) and node.value in _TRUE | _FALSE:
                return node.value in _TRUE
            if is_str(annotation):
                raise self._error(f'expected a quoted string, found bare word {node.value} '
                                  f'(write "{node.value}")', node.loc, path)
        if choices and node.kind == "number" and isinstance(node.value, int):
            if all(isinstance(c, str) for c in choices) and 0 <= node.value < len(choices):
                return choices[node.value]  # protobuf enums may be written by number
        if is_bool(annotation) and node.kind == "number" and node.value in (0, 1):
            return bool(node.value)
        if self.protobuf:
            self._check_protobuf_number(node, numeric_type(annotation), path)
        return node.value

    def _check_protobuf_number(self, node: Scalar, kind: type | None, path: Path) -> None:
        if kind is None:
            return
        if node.kind == "string":
            raise self._error(f"expected a number, found the string {_quoted(node.value)} (protobuf text writes "
                              f"numbers without quotes: {node.value})", node.loc, path)
        if kind is int and node.kind == "number":
            if isinstance(node.value, float):
                raise self._error(f"expected an integer, found {node.value!r}", node.loc, path)
            if not _INT32_MIN <= node.value <= _UINT32_MAX:
                raise self._error(f"{node.value} is outside the 32-bit range of TAO's integer fields "
                                  "(protobuf text refuses it)", node.loc, path)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


def _merge_messages(entries: list[Entry]) -> Node:
    """A non-repeated message given twice merges, as protobuf's text_format.Merge does."""
    if len(entries) == 1:
        return entries[0].value
    first = entries[0].value
    merged: list[Entry] = []
    for entry in entries:
        if isinstance(entry.value, Message):
            merged.extend(entry.value.entries)
        else:
            return entry.value
    kv = first.kv_maps if isinstance(first, Message) else True
    return Message(merged, _node_loc(first), kv_maps=kv)


def numeric_type(annotation: Any) -> type | None:
    """int or float for a numeric scalar field (an int Literal counts as int), else None."""
    choices = literal_values(annotation)
    if choices:
        return int if all(isinstance(c, int) and not isinstance(c, bool) for c in choices) else None
    ann = strip(annotation)[0]
    return ann if ann in (int, float) else None


def _quoted(value: object) -> str:
    return '"' + str(value) + '"'


def _node_loc(node: Node) -> Loc:
    return node.loc


def _where(file: str | None, loc: Loc) -> str:
    return f"{file or '<spec>'}:{loc.line}:{loc.col}"
