"""The DetectNet_v2 network: a backbone with a coverage head and a bbox head on one grid (tao.md §3.1).

TAO's grid is stride 16. `output_stride: 8` (a taokit extension) keeps the same two heads and tensor names
on a grid twice as fine: the stride-16 features are upsampled onto the backbone's stride-8 map and fused
(an FPN-lite neck), so small objects cover four times as many cells. One grid, not several scales, because
DeepStream's DetectNet parser reads one coverage and one bbox tensor and derives the stride from their size.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from taokit.errors import SpecError
from taokit.tasks.common.arch import NetworkArch, attach_backbone

STRIDES = (16, 8)
OUTPUT_NAMES = ("output_cov/Sigmoid", "output_bbox/BiasAdd")
INPUT_NAME = "input_1"
BACKBONE_STRIDE = 16  # the backbone always runs as TAO's; stride 8 comes from the neck


@dataclass(frozen=True)
class DetectNetArch(NetworkArch):
    """Everything needed to rebuild the network; stored in every model file (plain types only)."""

    dropout_rate: float = 0.0
    bbox_scale: float = 35.0
    bbox_offset: float = 0.5
    output_stride: int = 16  # files written before stride 8 existed lack the key: they are stride 16
    bbox_bins: int = 0  # 0: TAO's linear bbox head; N: a distribution over N positions per box edge

    @property
    def grid_hw(self) -> tuple[int, int]:
        h, w = self.input_hw
        return (-(-h // self.output_stride), -(-w // self.output_stride))

    @property
    def cell_in_bbox_units(self) -> float:
        """One grid cell in TAO's bbox units (pixels / bbox scale): a bin of the edge distributions."""
        return self.output_stride / self.bbox_scale


class Stride8Neck(nn.Module):
    """Stride-16 features, reduced and upsampled x2, added to the stride-8 features, then a 3x3 conv."""

    def __init__(self, fine_channels: int, coarse_channels: int, width: int) -> None:
        super().__init__()
        self.lateral = nn.Conv2d(fine_channels, width, kernel_size=1)
        self.reduce = nn.Conv2d(coarse_channels, width, kernel_size=1)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")  # inputs are multiples of 16: exact x2
        self.smooth = nn.Conv2d(width, width, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(width, eps=1e-3)
        self.relu = nn.ReLU()

    def forward(self, fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        fused = self.lateral(fine) + self.upsample(self.reduce(coarse))
        return self.relu(self.bn(self.smooth(fused)))


class DetectNetV2(nn.Module):
    """Backbone [-> stride-8 neck] -> (dropout) -> two 1x1 convs: sigmoid coverage (C) and linear bbox (4C)."""

    def __init__(self, arch: DetectNetArch) -> None:
        super().__init__()
        if arch.output_stride not in STRIDES:
            raise SpecError(f"output_stride must be 16 (TAO's) or 8, got {arch.output_stride}",
                            key="model_config.output_stride")
        backbone = attach_backbone(self, arch, BACKBONE_STRIDE)
        channels = backbone.out_channels
        self.neck: Stride8Neck | None = None
        if arch.output_stride == 8:
            if not backbone.stage_channels:
                raise SpecError(f"output_stride 8 needs a ResNet backbone (arch \"resnet\" or "
                                f"\"torchvision_resnet\"), not '{arch.arch}'", key="model_config.output_stride")
            fine = backbone.stage_channels[1]  # block_2: stride 8
            self.neck = Stride8Neck(fine, channels, width=min(fine, 256))
            channels = min(fine, 256)
        self.dropout = nn.Dropout2d(arch.dropout_rate) if arch.dropout_rate > 0 else nn.Identity()
        self.output_cov, self.output_bbox = _heads(channels, len(arch.class_names), arch.bbox_bins)
        self.edge_decoder = EdgeDistribution(arch.bbox_bins) if arch.bbox_bins else None

    def replace_heads(self, class_names: tuple[str, ...]) -> list[str]:
        """New output_cov/output_bbox for `class_names` on the same features (a pruned backbone keeps its
        widths); a class the old heads also detect keeps its weights. Returns the classes that kept them."""
        old = list(self.arch.class_names)
        cov, bbox = _heads(self.output_cov.in_channels, len(class_names), self.arch.bbox_bins)
        kept = [name for name in class_names if name in old]
        n = 4 * max(self.arch.bbox_bins, 1)  # class-major: 4 edges (x bins) per class
        with torch.no_grad():
            for i, name in enumerate(class_names):
                if name in old:
                    j = old.index(name)
                    cov.weight[i], cov.bias[i] = self.output_cov.weight[j], self.output_cov.bias[j]
                    bbox.weight[n * i:n * i + n] = self.output_bbox.weight[n * j:n * j + n]
                    bbox.bias[n * i:n * i + n] = self.output_bbox.bias[n * j:n * j + n]
        self.output_cov, self.output_bbox = cov, bbox
        self.arch = replace(self.arch, class_names=tuple(class_names))
        return kept

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.neck is None:
            return self.backbone(x)
        stages = self.backbone.stage_outputs(x)
        return self.neck(stages[1], stages[-1])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(coverage, bbox) in TAO's layout; in training, a distribution head adds its logits for the cost."""
        features = self.dropout(self.features(x))
        cov, bbox = torch.sigmoid(self.output_cov(features)), self.output_bbox(features)
        if self.edge_decoder is None:
            return cov, bbox
        logits = self.edge_decoder.logits(bbox)
        # the unit is read from arch at each call: a loaded graph's bbox scale follows the spec (keep_structure)
        edges = self.edge_decoder(logits, self.arch.cell_in_bbox_units)
        return (cov, edges, logits) if self.training else (cov, edges)


class EdgeDistribution(nn.Module):
    """Each box edge as a distribution over `bbox_bins` distances, 0 to bins-1 grid cells from the cell
    centre (GFL, Li et al. 2020; YOLOv8's DFL head); its mean, in TAO's bbox units (pixels / bbox scale),
    is the output. The decoding is inside the network, so output_bbox/BiasAdd keeps its 4C channels and
    everything after it (DeepStream's parser, TensorRT, taokit's decode) reads the boxes as TAO's."""

    def __init__(self, bins: int) -> None:
        super().__init__()
        self.bins = bins
        self.register_buffer("cells", torch.arange(bins, dtype=torch.float32), persistent=False)

    def logits(self, raw: torch.Tensor) -> torch.Tensor:
        """(N, 4C*bins, H, W) -> (N, 4C, bins, H, W)."""
        # Only the batch left to infer: an exported graph's Reshape then has a constant shape, which ONNX
        # Runtime's shape inference (INT8 quantization) and TensorRT resolve with a dynamic batch.
        edges, h, w = int(raw.shape[1]) // self.bins, int(raw.shape[2]), int(raw.shape[3])
        return raw.view(-1, edges, self.bins, h, w)

    def forward(self, logits: torch.Tensor, unit: float) -> torch.Tensor:
        """(N, 4C, bins, H, W) logits -> (N, 4C, H, W) expected distances, in `unit`s per cell."""
        probs = torch.softmax(logits, dim=2)
        return (probs * (self.cells * unit).view(1, 1, -1, 1, 1)).sum(dim=2)  # a constant in an export


def _heads(channels: int, num_classes: int, bins: int = 0) -> tuple[nn.Conv2d, nn.Conv2d]:
    cov = nn.Conv2d(channels, num_classes, kernel_size=1)
    bbox = nn.Conv2d(channels, 4 * num_classes * max(bins, 1), kernel_size=1)
    # Start with low coverage everywhere: most cells are background, so the loss starts sane.
    nn.init.constant_(cov.bias, -4.0)
    nn.init.normal_(cov.weight, std=0.01)
    nn.init.normal_(bbox.weight, std=0.01)
    nn.init.zeros_(bbox.bias)
    return cov, bbox
