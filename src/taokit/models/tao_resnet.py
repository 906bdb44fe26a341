"""TAO's ResNet template (tao_tensorflow1_backend `core/templates/resnet.py`), layer for layer.

It differs from torchvision's ResNet, which is why weights from NVIDIA's files need it:
- convolutions carry a bias (Keras' `use_bias=True`, which DetectNet_v2 never turns off);
- no max-pool (`use_pooling: false`, DetectNet_v2's default): conv1 /2, block_1 /2, block_2 /2, block_3 /2,
  block_4 /1, so the features are at stride 16; `use_pooling: true` puts a 3x3/2 max-pool after conv1 and
  the strides at block_1 /1 ... block_4 /2 (stride 32);
- the first sub-block of every block has a 1x1 projection shortcut, block_1a (64 -> 64) included; with
  `all_projections` every sub-block has one;
- the stride sits on the first convolution of a sub-block (the 1x1 of a ResNet-50 bottleneck too);
- BatchNorm epsilon 1e-3 (Keras' default, DetectNet_v2); "same" padding is symmetric (TAO patches Keras).

Module names are TAO's layer names with a dot after the sub-block: `conv1`, `bn_conv1`,
`block_1a.conv_1`, `block_1a.bn_shortcut`, ... — `tao_layer_name` turns them back into `block_1a_conv_1`.
"""

from __future__ import annotations

import string

import torch
from torch import nn

from taokit.errors import SpecError
from taokit.models.backbone import Backbone, BackboneOptions

_BLOCKS = {10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3]}
_WIDTHS = (64, 128, 256, 512)  # the last conv's width per block; x4 for the ResNet-50 bottleneck


def tao_layer_name(module_name: str) -> str:
    """`block_1a.conv_1` -> `block_1a_conv_1` (the name in TAO's Keras files and prune specs)."""
    return module_name.replace(".", "_")


def _conv(cin: int, cout: int, kernel: int, stride: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=bias)


class SubBlock(nn.Module):
    """TAO's CNNBlock: conv_i/bn_i/relu_i for each kernel, an optional conv_shortcut/bn_shortcut, add, relu."""

    def __init__(self, cin: int, widths: list[int], kernels: list[int], stride: int, shortcut: bool,
                 bias: bool, eps: float) -> None:
        super().__init__()
        self.depth = len(widths)
        channels = cin
        for i, (width, kernel) in enumerate(zip(widths, kernels, strict=True), start=1):
            self.add_module(f"pad_{i}", nn.Identity())  # set_conv_pads: an imported file's explicit pads
            self.add_module(f"conv_{i}", _conv(channels, width, kernel, stride if i == 1 else 1, bias))
            self.add_module(f"bn_{i}", nn.BatchNorm2d(width, eps=eps))
            channels = width
        self.has_shortcut = shortcut
        if shortcut:
            self.pad_shortcut = nn.Identity()
            self.conv_shortcut = _conv(cin, channels, 1, stride, bias)
            self.bn_shortcut = nn.BatchNorm2d(channels, eps=eps)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for i in range(1, self.depth + 1):
            y = getattr(self, f"bn_{i}")(getattr(self, f"conv_{i}")(getattr(self, f"pad_{i}")(y)))
            if i < self.depth:
                y = self.relu(y)
        skip = self.bn_shortcut(self.conv_shortcut(self.pad_shortcut(x))) if self.has_shortcut else x
        return self.relu(y + skip)


class TaoResNet(nn.Module):
    """conv1 (7x7/2, 64) + bn_conv1 + relu [+ max-pool], then block_1a ... block_4x."""

    def __init__(self, num_layers: int, *, use_pooling: bool, all_projections: bool, bias: bool,
                 eps: float) -> None:
        super().__init__()
        self.pad1 = nn.Identity()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=bias)
        self.bn_conv1 = nn.BatchNorm2d(64, eps=eps)
        self.relu = nn.ReLU(inplace=False)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1) if use_pooling else nn.Identity()
        strides = (1, 2, 2, 2) if use_pooling else (2, 2, 2, 1)
        bottleneck = num_layers == 50
        self.stage_names: list[list[str]] = []
        channels = 64
        for stage, (count, width, stride) in enumerate(zip(_BLOCKS[num_layers], _WIDTHS, strides, strict=True)):
            widths, kernels = ([width, width, width * 4], [1, 3, 1]) if bottleneck else ([width, width], [3, 3])
            names = []
            for k in range(count):
                name = f"block_{stage + 1}{string.ascii_lowercase[k]}"
                self.add_module(name, SubBlock(channels, widths, kernels, stride if k == 0 else 1,
                                               shortcut=k == 0 or all_projections, bias=bias, eps=eps))
                channels = widths[-1]
                names.append(name)
            self.stage_names.append(names)
        self.out_channels = channels
        self.stage_channels = tuple(w * (4 if bottleneck else 1) for w in _WIDTHS)
        for m in self.modules():
            # torchvision's initialisation (He, fan-out; zero biases): trains from scratch as well as theirs.
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage_outputs(x)[-1]

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of block_1 ... block_4 (strides 4, 8, 16, 16 without pooling), for a detector's neck."""
        x = self.pool(self.relu(self.bn_conv1(self.conv1(self.pad1(x)))))
        outputs = []
        for names in self.stage_names:
            for name in names:
                x = getattr(self, name)(x)
            outputs.append(x)
        return outputs


def set_conv_pads(net: nn.Module, pads: dict[str, list[int]]) -> None:
    """Give the named convolutions (and `pool`, the stem's max-pool) explicit [top, left, bottom, right] pads
    instead of "same" padding.

    keras2onnx writes TF-style pads ([0, 0, 1, 1] on a stride-2 3x3 conv of an even input) where TAO
    trained with symmetric ones; an imported ONNX keeps the pads it was written with, so its outputs match.
    """
    modules = dict(net.named_modules())
    for layer, (top, left, bottom, right) in pads.items():
        if layer == "pool" and isinstance(getattr(net, "pool", None), nn.MaxPool2d):
            # keras "same" max-pooling: pad with -inf (never the max), then pool without padding
            net.pool = nn.Sequential(nn.ConstantPad2d((left, right, top, bottom), float("-inf")),
                                     nn.MaxPool2d(3, stride=2, padding=0))
            continue
        name = _module_name(layer)
        conv = modules.get(name)
        if not isinstance(conv, nn.Conv2d):
            raise SpecError(f"conv_pads names '{layer}', which is no convolution of this network")
        parent, _, attr = name.rpartition(".")
        owner = modules[parent] if parent else net
        pad_attr = "pad1" if attr == "conv1" else attr.replace("conv", "pad", 1)
        conv.padding = (0, 0)
        setattr(owner, pad_attr, nn.ZeroPad2d((left, right, top, bottom)))


def _module_name(layer: str) -> str:
    """`block_1a_conv_1` -> `block_1a.conv_1` (the inverse of tao_layer_name)."""
    if layer.startswith("block_") and layer.count("_") >= 2:
        head, _, rest = layer[len("block_"):].partition("_")
        return f"block_{head}.{rest}"
    return layer


def build_tao_resnet(num_layers: int, options: BackboneOptions) -> Backbone:
    if num_layers not in _BLOCKS:
        raise SpecError(f"resnet num_layers must be one of {', '.join(map(str, _BLOCKS))}, got {num_layers}",
                        key="model_config.num_layers")
    net = TaoResNet(num_layers, use_pooling=options.use_pooling, all_projections=options.all_projections,
                    bias=options.use_bias, eps=options.batch_norm_eps)
    set_conv_pads(net, options.conv_pads)
    blocks = [[net.conv1, net.bn_conv1], *([getattr(net, n) for n in names] for names in net.stage_names)]
    return Backbone(net, net.out_channels, blocks, net.stage_channels)
