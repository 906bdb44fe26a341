"""The DetectNet_v2 network: a stride-16 backbone with a coverage head and a bbox head (tao.md §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from taokit.tasks.common.arch import NetworkArch, attach_backbone

STRIDE = 16
OUTPUT_NAMES = ("output_cov/Sigmoid", "output_bbox/BiasAdd")
INPUT_NAME = "input_1"


@dataclass(frozen=True)
class DetectNetArch(NetworkArch):
    """Everything needed to rebuild the network; stored in every model file (plain types only)."""

    dropout_rate: float = 0.0
    bbox_scale: float = 35.0
    bbox_offset: float = 0.5

    @property
    def grid_hw(self) -> tuple[int, int]:
        h, w = self.input_hw
        return (-(-h // STRIDE), -(-w // STRIDE))


class DetectNetV2(nn.Module):
    """Backbone -> (dropout) -> two 1x1 convs: sigmoid coverage (C) and linear bbox (4C) per grid cell."""

    def __init__(self, arch: DetectNetArch) -> None:
        super().__init__()
        channels = attach_backbone(self, arch, STRIDE)
        self.dropout = nn.Dropout2d(arch.dropout_rate) if arch.dropout_rate > 0 else nn.Identity()
        num_classes = len(arch.class_names)
        self.output_cov = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.output_bbox = nn.Conv2d(channels, 4 * num_classes, kernel_size=1)
        # Start with low coverage everywhere: most cells are background, so the loss starts sane.
        nn.init.constant_(self.output_cov.bias, -4.0)
        nn.init.normal_(self.output_cov.weight, std=0.01)
        nn.init.normal_(self.output_bbox.weight, std=0.01)
        nn.init.zeros_(self.output_bbox.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.dropout(self.backbone(x))
        return torch.sigmoid(self.output_cov(features)), self.output_bbox(features)
