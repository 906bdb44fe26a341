"""Hydra-style overrides (`training_config.num_epochs=5`) applied to a shaped spec dict."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel

from taokit.errors import SpecError
from taokit.spec.annotations import shape_of, spec_fields
from taokit.spec.shape import Path, format_path, suggest

_PART_RE = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `a.b[0].c=value` into path parts and a YAML-typed value."""
    if "=" not in text:
        raise SpecError(f"override '{text}' must look like key.path=value", key="overrides")
    key, raw = text.split("=", 1)
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _PART_RE.finditer(key.strip())]
    if not parts or "".join(f"{p}" for p in parts) == "":
        raise SpecError(f"override '{text}' has an empty key", key="overrides")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_overrides(
    data: dict[str, Any], schema: type[BaseModel], overrides: list[str]
) -> list[tuple[Path, str]]:
    """Set each override in `data` in place, checking every key against the schema.

    Returns:
        (error path, override text) for each override, so validation errors can name the override.
    """
    written: list[tuple[Path, str]] = []
    for text in overrides:
        parts, value = parse_override(text)
        written.append((_set(data, schema, parts, value, text), text))
    return written


def _set(data: dict[str, Any], schema: type[BaseModel], parts: list[str], value: Any, text: str) -> Path:
    node: Any = data
    model: type[BaseModel] | None = schema
    shape = None
    path: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if not isinstance(node, list if shape is not None and shape.kind == "list" else dict):
            # the spec or an earlier override gave this key a plain value, not a section to descend into
            raise _err(text, path, f"is {type(node).__name__} {node!r}, not a {shape.kind if shape else 'section'}")
        if shape is not None and shape.kind == "list":
            if not part.lstrip("-").isdigit():
                raise _err(text, path, f"'{part}' is not a list index")
            index = int(part)
            if not -len(node) <= index < len(node):
                raise _err(text, path, f"index {index} is out of range (the list has {len(node)} items)")
            key: str | int = index % len(node)
            shape = shape_of(shape.inner)
        elif shape is not None and shape.kind == "map":
            key = part
            shape = shape_of(shape.inner)
        else:
            assert model is not None
            fields = spec_fields(model)
            if part not in fields:
                raise _err(text, path, f"unknown field '{part}'{suggest(part, list(fields))}")
            key = part
            shape = shape_of(fields[part][1].annotation)
        path.append(key)
        if last:
            node[key] = value
            break
        if isinstance(node, dict):
            node = node.setdefault(key, [] if shape.kind == "list" else {})
        else:
            node = node[key]
        model = shape.inner if shape.kind == "message" else None
    return tuple(path)


def _err(text: str, path: list[str | int], reason: str) -> SpecError:
    where = format_path(tuple(path))
    return SpecError(reason, file=f"override '{text}'", key=where)
