"""The Backbone record every builder returns, and the options every builder honours."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True)
class BackboneOptions:
    """Model-config switches TAO offers for every architecture."""

    use_batch_norm: bool = True
    activation: str = "relu"
    all_projections: bool = False
    output_stride: int = 16  # DetectNet_v2 needs 16; classification uses 32 and a pooled head
    # Which ResNet "resnet" builds: TAO's template ("tao") or torchvision's ("torchvision").
    template: str = "tao"
    # Read by TAO's ResNet template only (torchvision's has no conv biases and fixes its pooling):
    use_pooling: bool = False
    use_bias: bool = True
    batch_norm_eps: float = 1e-3
    conv_pads: dict[str, list[int]] = field(default_factory=dict)  # TAO layer name -> [top, left, bottom, right]


@dataclass
class Backbone:
    """A feature extractor and what the heads and `freeze_blocks` need to know about it.

    `blocks[i]` is TAO's block i (0 = the stem) as a list of modules, for `freeze_blocks`. ResNets also give
    `stage_channels` and a `module.stage_outputs(x)` (every stage's output), which a detector's neck reads;
    backbones without them have an empty `stage_channels`.
    """

    module: nn.Module
    out_channels: int
    blocks: list[list[nn.Module]] = field(default_factory=list)
    stage_channels: tuple[int, ...] = ()
