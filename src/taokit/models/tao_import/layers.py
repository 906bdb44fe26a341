"""The weights of a TAO ResNet network read from NVIDIA's files, keyed by TAO layer name, and what they imply.

Both readers (Keras .hdf5 and keras2onnx .onnx) produce a `TaoNetwork`; `structure` derives the depth,
projections and (pruned) widths from it, and `state_dict` turns it into the tensors of taokit's TAO
template (models/tao_resnet.py), whose module names are the layer names with a dot after the sub-block.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

import numpy as np
import torch

from taokit.errors import ModelError

_DEPTHS = {(1, 1, 1, 1): 10, (2, 2, 2, 2): 18, (3, 4, 6, 3): 34}  # sub-blocks per block, basic blocks
_BLOCK = re.compile(r"^block_(\d)([a-z])_")


@dataclass
class Conv:
    kernel: np.ndarray  # OIHW
    bias: np.ndarray | None
    stride: int = 1
    pads: list[int] | None = None  # [top, left, bottom, right] as written; None: symmetric "same"


@dataclass
class BatchNorm:
    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float


@dataclass
class TaoNetwork:
    """A TAO ResNet and its heads, as a file holds them. A conv without a `bns` entry had its BN folded in."""

    source: str
    convs: dict[str, Conv] = field(default_factory=dict)  # conv1, block_1a_conv_1, ..., and the heads
    bns: dict[str, BatchNorm] = field(default_factory=dict)  # keyed by the conv they follow
    input_chw: tuple[int, int, int] | None = None
    activation: str = "relu"
    use_pooling: bool = False
    pool_pads: list[int] | None = None  # the stem max-pool's [top, left, bottom, right], as written
    heads: dict[str, str] = field(default_factory=dict)  # role (cov, bbox, predictions) -> layer name
    # An ONNX source's tensor names and output order ({"input", "cov", "bbox", "bbox_first"}), so that a
    # re-export names its tensors the same way; empty for Keras files (no tensor names) or unclear outputs.
    onnx_names: dict[str, object] = field(default_factory=dict)
    dense: tuple[np.ndarray, np.ndarray] | None = None  # a classifier's (out x in weight, bias)

    @property
    def bn_folded(self) -> bool:
        return not self.bns

    def sub_blocks(self) -> list[str]:
        names = sorted({m.group(0)[:-1] for n in self.convs if (m := _BLOCK.match(n))})
        return names


@dataclass(frozen=True)
class Structure:
    num_layers: int
    all_projections: bool
    eps: float
    use_bias: bool
    conv_pads: dict[str, list[int]]


def cov_bbox_order(first: int, second: int) -> tuple[int, int] | None:
    """(coverage, bbox) positions of DetectNet_v2's two heads from their channel counts, C and 4C, whatever
    their names or order (tao_deploy picks them the same way); None when the counts are not C and 4C."""
    if second == 4 * first:
        return 0, 1
    if first == 4 * second:
        return 1, 0
    return None


def bn_name(conv: str) -> str:
    """The BatchNorm layer that follows a conv in TAO's template: conv1 -> bn_conv1, x_conv_1 -> x_bn_1."""
    return "bn_conv1" if conv == "conv1" else conv.replace("_conv_", "_bn_")


def module_name(layer: str) -> str:
    """`block_1a_conv_1` -> `block_1a.conv_1` (taokit's module name for a TAO layer)."""
    match = _BLOCK.match(layer)
    return f"{match.group(0)[:-1]}.{layer[match.end():]}" if match else layer


def structure(net: TaoNetwork) -> Structure:
    """Depth, projections, epsilon, biases and explicit pads of `net`; errors say what does not fit TAO's template."""
    blocks = net.sub_blocks()
    per_stage = tuple(sum(1 for b in blocks if b.startswith(f"block_{s}")) for s in range(1, 5))
    bottleneck = any(n.endswith("_conv_3") for n in net.convs)
    depth = 50 if bottleneck and per_stage == (3, 4, 6, 3) else _DEPTHS.get(per_stage) if not bottleneck else None
    if depth is None or "conv1" not in net.convs:
        raise ModelError(f"{net.source}: not TAO's ResNet template (sub-blocks per block {list(per_stage)}; "
                         "expected 1,1,1,1 / 2,2,2,2 / 3,4,6,3 after conv1)")
    for stage, count in enumerate(per_stage, start=1):
        expected = [f"block_{stage}{string.ascii_lowercase[k]}" for k in range(count)]
        if [b for b in blocks if b.startswith(f"block_{stage}")] != expected:
            raise ModelError(f"{net.source}: block {stage} has sub-blocks {blocks}; expected {expected}")
    shortcuts = [b for b in blocks if f"{b}_conv_shortcut" in net.convs]
    firsts = [b for b in blocks if b.endswith("a")]
    all_projections = len(shortcuts) == len(blocks) and shortcuts != firsts  # ResNet-10: the same either way
    if not all_projections and shortcuts != firsts:
        raise ModelError(f"{net.source}: projection shortcuts on {shortcuts}; TAO's template has them on the first "
                         "sub-block of every block, or on all of them (all_projections)")
    eps = {round(bn.eps, 12) for bn in net.bns.values()}
    backbone = [n for n in net.convs if n not in net.heads.values()]
    use_bias = all(net.convs[n].bias is not None for n in backbone) or net.bn_folded
    pads = {n: c.pads for n in backbone if (c := net.convs[n]).pads is not None
            and c.pads != [c.kernel.shape[2] // 2] * 4}
    if net.pool_pads is not None and net.pool_pads != [1, 1, 1, 1]:
        pads["pool"] = net.pool_pads
    return Structure(depth, all_projections, eps.pop() if len(eps) == 1 else 1e-3, use_bias, pads)


def channels(net: TaoNetwork, prefix: str) -> dict[str, dict[str, int]]:
    """The surgery channel config (models/surgery.py) of the file's widths: pruned files import too."""
    config: dict[str, dict[str, int]] = {}
    for name, conv in net.convs.items():
        out, cin = conv.kernel.shape[:2]
        key = name if name in net.heads.values() else f"{prefix}{module_name(name)}"
        config[key] = {"in": int(cin), "out": int(out), "groups": 1}
        if name not in net.heads.values():
            config[f"{prefix}{module_name(bn_name(name))}"] = {"features": int(out)}
    if net.dense is not None:
        out, cin = net.dense[0].shape
        config["predictions"] = {"in": int(cin), "out": int(out)}
    return config


def state_dict(net: TaoNetwork, prefix: str, eps: float, *, conv_bias: bool = True) -> dict[str, torch.Tensor]:
    """The tensors of the file for taokit's module names. A folded BN becomes an exact identity at `eps`.

    For a network whose backbone convs have no bias (`conv_bias=False`), each conv bias moves into the
    following BN's running mean (BN(y + b) with mean m equals BN(y) with mean m - b): nothing is lost.
    """
    tensors: dict[str, torch.Tensor] = {}
    for name, conv in net.convs.items():
        head = name in net.heads.values()
        key = name if head else f"{prefix}{module_name(name)}"
        tensors[f"{key}.weight"] = torch.tensor(np.asarray(conv.kernel, dtype=np.float32))
        if conv.bias is not None and (head or conv_bias):
            tensors[f"{key}.bias"] = torch.tensor(np.asarray(conv.bias, dtype=np.float32))
        if head:
            continue
        bn = net.bns.get(name)
        width = conv.kernel.shape[0]
        if bn is None:  # scale 1/sqrt(var + eps) = 1 with var = 1 - eps
            bn = BatchNorm(np.ones(width), np.zeros(width), np.zeros(width), np.full(width, 1.0 - eps), eps)
        mean = bn.mean if conv_bias or conv.bias is None else np.asarray(bn.mean) - np.asarray(conv.bias)
        bn_key = f"{prefix}{module_name(bn_name(name))}"
        for attr, value in (("weight", bn.gamma), ("bias", bn.beta), ("running_mean", mean),
                            ("running_var", bn.var)):
            tensors[f"{bn_key}.{attr}"] = torch.tensor(np.asarray(value, dtype=np.float32))
        tensors[f"{bn_key}.num_batches_tracked"] = torch.tensor(0)
    if net.dense is not None:
        tensors["predictions.weight"] = torch.tensor(np.asarray(net.dense[0], dtype=np.float32))
        tensors["predictions.bias"] = torch.tensor(np.asarray(net.dense[1], dtype=np.float32))
    return tensors
