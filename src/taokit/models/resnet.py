"""ResNet 10/18/34/50 from torchvision's blocks, with TAO's output stride and all_projections."""

from __future__ import annotations

from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet, conv1x1

from taokit.errors import SpecError
from taokit.models.backbone import Backbone, BackboneOptions
from taokit.models.names import RESNET_LAYERS

_LAYERS: dict[int, tuple[type[nn.Module], list[int]]] = {
    10: (BasicBlock, [1, 1, 1, 1]),
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
}
assert tuple(_LAYERS) == RESNET_LAYERS  # names.py lists them for code that must not import torch


class ResNetFeatures(nn.Module):
    """The stem and the four stages of a ResNet, without pooling head and classifier."""

    def __init__(self, net: ResNet) -> None:
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4

    def forward(self, x):  # noqa: ANN001, ANN201 - plain tensor in, tensor out
        return self.stage_outputs(x)[-1]

    def stage_outputs(self, x):  # noqa: ANN001, ANN201 - layer1 ... layer4 (strides 4, 8, 16, 16 or 32)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outputs = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            outputs.append(x)
        return outputs


def build_resnet(num_layers: int, options: BackboneOptions) -> Backbone:
    if num_layers not in _LAYERS:
        raise SpecError(f"resnet num_layers must be one of {', '.join(map(str, _LAYERS))}, got {num_layers}",
                        key="model_config.num_layers")
    block, layers = _LAYERS[num_layers]
    net = ResNet(block, layers)  # type: ignore[arg-type]
    if options.output_stride == 16:
        # TAO keeps DetectNet_v2 at stride 16: the last stage runs at stride 1.
        net.inplanes = 256 * block.expansion  # type: ignore[attr-defined]
        net.layer4 = net._make_layer(block, 512, layers[3], stride=1)  # type: ignore[arg-type]
    if options.all_projections:
        _add_projections(net)
    features = ResNetFeatures(net)
    blocks = [[features.conv1, features.bn1], [features.layer1], [features.layer2], [features.layer3],
              [features.layer4]]
    stages = tuple(w * block.expansion for w in (64, 128, 256, 512))  # type: ignore[attr-defined]
    return Backbone(features, 512 * block.expansion, blocks, stages)  # type: ignore[attr-defined]


def _add_projections(net: ResNet) -> None:
    """TAO's all_projections: every residual block gets a 1x1 projection shortcut."""
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for blk in layer:
            if blk.downsample is None:
                channels = blk.conv1.in_channels
                out = channels  # identity blocks keep the width
                blk.downsample = nn.Sequential(conv1x1(channels, out), nn.BatchNorm2d(out))
