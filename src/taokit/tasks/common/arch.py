"""A task's architecture record: everything needed to rebuild its network, in plain types only.

Model files (loaded with `torch.load(weights_only=True)`) and ONNX metadata (JSON) both store it, so
a record holds strings, numbers, tuples and dicts, never modules.
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from taokit.models.backbone import Backbone

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
    # Which ResNet "resnet" means: "tao" (TAO's template, what specs ask for since taokit 0.2) or
    # "torchvision". Files written before the TAO template existed lack the key: they are torchvision's.
    template: str = "torchvision"
    use_pooling: bool = False  # TAO template: max-pool after conv1 (stride 32) instead of stride 16
    use_bias: bool = True  # TAO template: convolutions with bias (Keras' default, DetectNet_v2's)
    batch_norm_eps: float = 1e-3  # TAO template: Keras' default epsilon
    # Explicit [top, left, bottom, right] pads per TAO layer name, as an imported file wrote them
    # (keras2onnx's TF-style asymmetric pads); empty: symmetric "same" padding.
    conv_pads: dict[str, list[int]] = field(default_factory=dict)
    # Free-form facts about the model's origin, e.g. {"imported_from": "resnet34_peoplenet.onnx",
    # "bn_folded": True} for NVIDIA's deployable files (whose BatchNorm is folded into the convolutions).
    extra: dict[str, Any] = field(default_factory=dict)


_STRUCTURE = ("arch", "num_layers", "use_batch_norm", "activation", "all_projections", "template", "use_pooling",
              "use_bias", "batch_norm_eps", "conv_pads", "extra")

A = TypeVar("A", bound=NetworkArch)


def keep_structure(new: A, loaded: NetworkArch) -> A:
    """`new` (from a spec) with the network structure of `loaded` (a file's graph, e.g. a pruned model)."""
    return replace(new, **{name: getattr(loaded, name) for name in _STRUCTURE})


def attach_backbone(net: Any, arch: NetworkArch, output_stride: int) -> Backbone:
    """Build `arch`'s backbone onto `net` (as .backbone, with TAO's .blocks); returns its record."""
    from taokit.models.backbone import BackboneOptions
    from taokit.models.registry import build_backbone

    options = BackboneOptions(use_batch_norm=arch.use_batch_norm, activation=arch.activation,
                              all_projections=arch.all_projections, output_stride=output_stride,
                              template=arch.template, use_pooling=arch.use_pooling, use_bias=arch.use_bias,
                              batch_norm_eps=arch.batch_norm_eps, conv_pads=arch.conv_pads)
    backbone = build_backbone(arch.arch, arch.num_layers, options)
    net.arch, net.backbone, net.blocks = arch, backbone.module, backbone.blocks
    return backbone
