"""NVIDIA's published TAO models as taokit networks: read the file, derive the architecture, load the weights.

The task modules (detectnet/import_model.py, classification/import_model.py) add their heads and class
names; this module knows the files: TAO 5 Keras `.hdf5`, deployable `.onnx`, and NGC's labels.txt.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from taokit.errors import ModelError
from taokit.models.surgery import apply_channel_config
from taokit.models.tao_import.layers import Structure, TaoNetwork, channels, state_dict, structure

log = logging.getLogger("taokit")

IMPORTABLE = (".hdf5", ".h5", ".onnx")
_ENCRYPTED = (".tlt", ".etlt", ".tltb")


def is_importable(path: Path) -> bool:
    return path.suffix.lower() in IMPORTABLE


def read_tao_file(path: Path) -> tuple[TaoNetwork, Structure]:
    """The network in an NVIDIA .hdf5/.onnx and its TAO-template structure; one-line errors otherwise."""
    suffix = path.suffix.lower()
    if suffix in _ENCRYPTED:
        raise ModelError(f"{path}: an encrypted TAO {suffix} file (key-protected, TAO 4 and earlier); taokit reads "
                         "NVIDIA's unencrypted files: the TAO 5 .hdf5 (NGC 'trainable_unencrypted' versions) or the "
                         "deployable .onnx; download one of those, or decrypt this one with TAO's own tools")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    if suffix in (".hdf5", ".h5"):
        from taokit.models.tao_import.keras_reader import read_keras_hdf5

        net = read_keras_hdf5(path)
    elif suffix == ".onnx":
        from taokit.models.tao_import.onnx_reader import read_onnx

        net = read_onnx(path)
    else:
        raise ModelError(f"{path}: import reads NVIDIA's .hdf5 (TAO 5 Keras) or .onnx (deployable) files")
    return net, structure(net)


def pretrained_tensors(path: Path, model: nn.Module) -> dict[str, torch.Tensor]:
    """An NVIDIA file's tensors for initialising `model` by name and shape (heads optional: NGC's
    pretrained_* files may be backbones only). The model decides the form: a folded BN becomes an identity
    at its BatchNorm epsilon, and conv biases move into BN when its convolutions have none. A model with an
    arch record is marked `bn_folded` when the file's BN was folded, so fine-tuning keeps it frozen."""
    net, _ = read_tao_file(path)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    eps = norms[0].eps if norms else 1e-3
    conv_bias = not convs or convs[0].bias is not None  # the stem conv speaks for the backbone
    arch = getattr(model, "arch", None)
    if net.bn_folded and arch is not None:
        model.arch = replace(arch, extra={**arch.extra, "bn_folded": True})
    return state_dict(net, "backbone.", eps, conv_bias=conv_bias)


def read_labels(path: Path) -> list[str]:
    """NGC's labels.txt: one class per line, in network order (a DeepStream classifier's `a;b;c` line too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{path}: labels file not found") from None
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not a text labels file") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    names = lines[0].split(";") if len(lines) == 1 and ";" in lines[0] else lines
    if not names:
        raise ModelError(f"{path}: no class names (expected one per line, in network order)")
    return [n.strip() for n in names]


def load_into(model: nn.Module, net: TaoNetwork, shape: Structure, prefix: str = "backbone.") -> None:
    """Resize `model` (built from the structure) to the file's widths and load its tensors, all of them."""
    apply_channel_config(model, channels(net, prefix))
    tensors = state_dict(net, prefix, shape.eps)
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unknown = sorted(set(tensors) - set(own))
    if missing or unknown:
        raise ModelError(f"{net.source}: the file does not fill TAO's template (missing {missing[:3]}, "
                         f"unplaced {unknown[:3]})")
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        raise ModelError(f"{net.source}: weights do not fit ({str(err).splitlines()[-1].strip()[:160]})") from None
    log.info("imported %s: ResNet-%d%s, %d tensors%s%s", net.source, shape.num_layers,
             " (all_projections)" if shape.all_projections else "", len(tensors),
             ", BatchNorm folded into the convolutions" if net.bn_folded else "",
             f", explicit pads on {len(shape.conv_pads)} convolutions" if shape.conv_pads else "")
