"""The LaneNet network (Neven et al. 2018): a shared encoder, a binary lane/background branch and a
pixel-embedding branch, both at the input resolution.

Two encoders: ENet, as in the paper (stages 1-2 shared, each branch with its own stage 3 and decoder;
ReLU instead of PReLU and a projected shortcut instead of zero-padding, both friendlier to pruning and
TensorRT), and a ResNet-18/34 FCN (a shared feature-pyramid decoder, one head per branch).
`forward` returns (binary logits N x 2 x H x W, embedding N x D x H x W); `LaneNetOutputs` is what
export and every runtime see: the lane probability and the embedding, under fixed tensor names.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from taokit.tasks.common.arch import NetworkArch, attach_backbone

INPUT_NAME = "input_1"
OUTPUT_NAMES = ("binary_seg", "instance_embedding")


@dataclass(frozen=True)
class LaneNetArch(NetworkArch):
    embedding_dim: int = 4


def _cbr(cin: int, cout: int, kernel: int | tuple[int, int] = 3, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (dilation * (k[0] - 1) // 2, dilation * (k[1] - 1) // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, dilation, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Bottleneck(nn.Module):
    """ENet's bottleneck: 1x1 reduce, a regular/dilated/asymmetric (or strided) conv, 1x1 expand, plus shortcut."""

    def __init__(self, cin: int, cout: int, kind: str = "regular", dilation: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        mid = max(cout // 4, 8)
        down = kind == "down"
        self.reduce = _cbr(cin, mid, 2 if down else 1, 2 if down else 1)
        if kind == "asymmetric":
            self.conv = nn.Sequential(_cbr(mid, mid, (5, 1)), _cbr(mid, mid, (1, 5)))
        else:
            self.conv = _cbr(mid, mid, 3, 1, dilation)
        self.expand = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.Dropout2d(dropout))
        self.shortcut = (nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
                         if down or cin != cout else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.expand(self.conv(self.reduce(x))) + self.shortcut(x))


class Upsample(nn.Module):
    """ENet's upsampling bottleneck, with a transposed conv (no max-unpooling indices to export)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = max(cout // 4, 8)
        self.main = nn.Sequential(_cbr(cin, mid, 1), nn.ConvTranspose2d(mid, mid, 2, 2, bias=False),
                                  nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, cout, 1, bias=False),
                                  nn.BatchNorm2d(cout))
        self.shortcut = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.main(x) + self.shortcut(x))


def _stage(channels: int, dropout: float = 0.1) -> nn.Sequential:
    """ENet's stage 2/3 body: regular, dilated 2, asymmetric 5, dilated 4, regular, dilated 8, asymmetric, dilated 16."""
    plan = [("regular", 1), ("dilated", 2), ("asymmetric", 1), ("dilated", 4), ("regular", 1), ("dilated", 8),
            ("asymmetric", 1), ("dilated", 16)]
    return nn.Sequential(*(Bottleneck(channels, channels, kind, d, dropout) for kind, d in plan))


class ENetBranch(nn.Module):
    """One branch's stage 3 and decoder, ending at the input resolution."""

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.stage3 = _stage(128)
        self.decoder = nn.Sequential(Upsample(128, 64), Bottleneck(64, 64), Bottleneck(64, 64), Upsample(64, 16),
                                     Bottleneck(16, 16))
        self.head = nn.ConvTranspose2d(16, out_channels, 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.decoder(self.stage3(x)))


class ENetLaneNet(nn.Module):
    def __init__(self, arch: LaneNetArch) -> None:
        super().__init__()
        self.arch = arch
        self.initial = _cbr(3, 16, 3, 2)
        self.stage1 = nn.Sequential(Bottleneck(16, 64, "down", dropout=0.01),
                                    *(Bottleneck(64, 64, dropout=0.01) for _ in range(4)))
        self.stage2 = nn.Sequential(Bottleneck(64, 128, "down"), _stage(128))
        self.blocks = [[self.initial], [self.stage1], [self.stage2]]  # TAO-style groups (unused by specs)
        self.binary = ENetBranch(2)
        self.embedding = ENetBranch(arch.embedding_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shared = self.stage2(self.stage1(self.initial(x)))
        return self.binary(shared), self.embedding(shared)


class ResNetLaneNet(nn.Module):
    """ResNet encoder (stride 16), a feature-pyramid decoder to stride 4, and two heads upsampled to the input."""

    def __init__(self, arch: LaneNetArch) -> None:
        super().__init__()
        channels = attach_backbone(self, arch, output_stride=16).out_channels
        width = 64
        self.lateral4 = _cbr(channels, width, 1)
        self.lateral3 = _cbr(channels // 4, width, 1)  # layer2: 128 (r18/34)
        self.lateral2 = _cbr(channels // 8, width, 1)  # layer1: 64
        self.smooth3, self.smooth2 = _cbr(width, width), _cbr(width, width)
        self.binary = nn.Sequential(_cbr(width, 32), nn.Conv2d(32, 2, 1))
        self.embedding = nn.Sequential(_cbr(width, 32), nn.Conv2d(32, arch.embedding_dim, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.backbone
        c2 = b.layer1(b.maxpool(b.relu(b.bn1(b.conv1(x)))))
        c3 = b.layer2(c2)
        c4 = b.layer4(b.layer3(c3))
        p3 = self.smooth3(self.lateral3(c3) + F.interpolate(self.lateral4(c4), size=c3.shape[-2:], mode="bilinear",
                                                            align_corners=False))
        p2 = self.smooth2(self.lateral2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="bilinear",
                                                            align_corners=False))
        size = x.shape[-2:]
        return (F.interpolate(self.binary(p2), size=size, mode="bilinear", align_corners=False),
                F.interpolate(self.embedding(p2), size=size, mode="bilinear", align_corners=False))


def build_lanenet(arch: LaneNetArch) -> nn.Module:
    return ENetLaneNet(arch) if arch.arch == "enet" else ResNetLaneNet(arch)


class LaneNetOutputs(nn.Module):
    """What export, INT8 and every runtime see: `binary_seg` (N x 1 x H x W lane probability) and
    `instance_embedding` (N x D x H x W)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.arch = net.arch

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, embedding = self.net(x)
        return torch.softmax(logits, dim=1)[:, 1:2], embedding
