"""Reads pydantic field annotations: is a field a list, a map, a sub-message or a scalar?"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel


@dataclass(frozen=True)
class FieldShape:
    """How a spec field is written: kind is 'list', 'map', 'message' or 'scalar'."""

    kind: str
    inner: Any  # item/value annotation for list/map, model class for message, annotation for scalar
    optional: bool = False


def strip(annotation: Any) -> tuple[Any, bool]:
    """Remove Annotated[...] and Optional[...]; return (annotation, allows_none)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def shape_of(annotation: Any) -> FieldShape:
    ann, optional = strip(annotation)
    origin = typing.get_origin(ann)
    if origin in (list, tuple, typing.Sequence):
        return FieldShape("list", typing.get_args(ann)[0], optional)
    if origin is dict:
        return FieldShape("map", typing.get_args(ann)[1], optional)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return FieldShape("message", ann, optional)
    return FieldShape("scalar", ann, optional)


def literal_values(annotation: Any) -> tuple[Any, ...] | None:
    ann, _ = strip(annotation)
    if typing.get_origin(ann) is Literal:
        return typing.get_args(ann)
    return None


def is_bool(annotation: Any) -> bool:
    return strip(annotation)[0] is bool


def is_str(annotation: Any) -> bool:
    return strip(annotation)[0] is str


def spec_fields(model: type[BaseModel]) -> dict[str, tuple[str, Any]]:
    """Fields by the name written in spec files (the alias, where pydantic needs one, e.g. model_config)."""
    return {(info.alias or name): (name, info) for name, info in model.model_fields.items()}
