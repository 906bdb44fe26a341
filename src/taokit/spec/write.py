"""Writes a validated spec back out as protobuf text format or YAML (only the fields that were set)."""

from __future__ import annotations

import json
import typing
from typing import Any

import yaml
from pydantic import BaseModel

from taokit.spec.annotations import shape_of, spec_fields, strip

PROTO_ENUM = "proto_enum"  # Annotated metadata: a protobuf enum, written as a bare identifier


def to_yaml(model: BaseModel, include_defaults: bool = False) -> str:
    """YAML of the fields the spec set (or of every field, defaults included)."""
    data = model.model_dump(mode="json", exclude_unset=not include_defaults, by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_prototext(model: BaseModel, include_defaults: bool = False) -> str:
    """Protobuf text of the fields the spec set (or of every field, defaults included)."""
    lines: list[str] = []
    _message(model, lines, 0, include_defaults)
    return "\n".join(lines) + "\n"


def _message(model: BaseModel, lines: list[str], depth: int, everything: bool) -> None:
    pad = "  " * depth
    for name, (attr, info) in spec_fields(type(model)).items():
        if not everything and attr not in model.model_fields_set:
            continue
        value = getattr(model, attr)
        if value is None:
            continue
        annotation = info.annotation
        if info.metadata:  # pydantic moves Annotated[...] extras into metadata; put them back
            annotation = typing.Annotated.__class_getitem__((annotation, *info.metadata))
        shape = shape_of(annotation)
        if shape.kind == "list":
            for item in value:
                _field(name, item, shape.inner, lines, depth, everything)
        elif shape.kind == "map":
            for key, item in value.items():
                lines.append(f"{pad}{name} {{")
                lines.append(f"{pad}  key: {_quote(key)}")
                _field("value", item, shape.inner, lines, depth + 1, everything)
                lines.append(f"{pad}}}")
        else:
            _field(name, value, annotation, lines, depth, everything)


def _field(name: str, value: Any, annotation: Any, lines: list[str], depth: int, everything: bool) -> None:
    pad = "  " * depth
    if isinstance(value, BaseModel):
        lines.append(f"{pad}{name} {{")
        _message(value, lines, depth + 1, everything)
        lines.append(f"{pad}}}")
    else:
        lines.append(f"{pad}{name}: {_scalar(value, annotation)}")


def _scalar(value: Any, annotation: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and _is_enum(annotation):
        return value
    return _quote(str(value))


def _is_enum(annotation: Any) -> bool:
    if typing.get_origin(annotation) is typing.Annotated:
        if PROTO_ENUM in typing.get_args(annotation)[1:]:
            return True
    inner, _ = strip(annotation)
    return inner is not annotation and _is_enum(inner)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
