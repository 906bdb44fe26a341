"""The classifier: a stride-32 backbone, global average pooling, dropout and one linear layer.

Training uses its logits; export wraps it in `SoftmaxOutput`, whose single output is TAO's
`predictions/Softmax` (class probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from taokit.tasks.common.arch import NetworkArch, attach_backbone

INPUT_NAME = "input_1"
OUTPUT_NAME = "predictions/Softmax"


@dataclass(frozen=True)
class ClassifierArch(NetworkArch):
    """Everything needed to rebuild the network and feed it; stored in model files and ONNX metadata."""

    dropout: float = 0.0
    preprocess: dict[str, Any] = field(default_factory=dict)  # transforms.Preprocess.to_dict()
    interpolation: str = "bilinear"
    center_crop: bool = False  # how validation images were cropped during training


class Classifier(nn.Module):
    def __init__(self, arch: ClassifierArch) -> None:
        super().__init__()
        channels = attach_backbone(self, arch, output_stride=32).out_channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(arch.dropout) if arch.dropout > 0 else nn.Identity()
        self.predictions = nn.Linear(channels, len(arch.class_names))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictions(self.dropout(torch.flatten(self.pool(self.backbone(x)), 1)))


class SoftmaxOutput(nn.Module):
    """What export, INT8 and every runtime see: probabilities, TAO's `predictions/Softmax`."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier
        self.arch = classifier.arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(x), dim=1)
