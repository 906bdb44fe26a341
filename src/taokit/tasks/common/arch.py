"""A task's architecture record: everything needed to rebuild its network, in plain types only.

Model files (loaded with `torch.load(weights_only=True)`) and ONNX metadata (JSON) both store it, so
a record holds strings, numbers, tuples and dicts, never modules.
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

ARCH_METADATA_KEY = "taokit.arch"  # the record's JSON in exported ONNX metadata

R = TypeVar("R", bound="ArchRecord")


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ArchRecord:
    """Base of DetectNetArch, ClassifierArch, ...: dict and JSON round trips for frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        """Rebuild from `to_dict()`; keys a record of an older taokit lacks keep their defaults."""
        hints = typing.get_type_hints(cls)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise TypeError(f"unknown architecture keys {', '.join(unknown)} (written by a newer taokit?)")
        values = {}
        for name, value in data.items():
            if typing.get_origin(hints[name]) is tuple and isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)

    def metadata(self) -> dict[str, str]:
        """ONNX metadata entries that let every runtime rebuild this record."""
        return {ARCH_METADATA_KEY: json.dumps(self.to_dict())}

    @classmethod
    def from_metadata(cls: type[R], metadata: dict[str, str]) -> R | None:
        text = metadata.get(ARCH_METADATA_KEY)
        return cls.from_dict(json.loads(text)) if text else None


@dataclass(frozen=True)
class NetworkArch(ArchRecord):
    """The part every task's record shares: the backbone, the classes and the input size."""

    arch: str
    num_layers: int
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    use_batch_norm: bool = True
    activation: str = "relu"
    all_projections: bool = False


def attach_backbone(net: Any, arch: NetworkArch, output_stride: int) -> int:
    """Build `arch`'s backbone onto `net` (as .backbone, with TAO's .blocks); returns its output channels."""
    from taokit.models.backbone import BackboneOptions
    from taokit.models.registry import build_backbone

    options = BackboneOptions(use_batch_norm=arch.use_batch_norm, activation=arch.activation,
                              all_projections=arch.all_projections, output_stride=output_stride)
    backbone = build_backbone(arch.arch, arch.num_layers, options)
    net.arch, net.backbone, net.blocks = arch, backbone.module, backbone.blocks
    return backbone.out_channels
