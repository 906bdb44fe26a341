"""Read a TAO 5 Keras `.hdf5` (unencrypted; Keras 2.2 layout, ngc-models.md §2) into a TaoNetwork.

Weights sit at `model_weights/<layer>/<layer>/kernel:0` (HWIO, whatever the data format), `bias:0`, and
BatchNorm's `gamma:0, beta:0, moving_mean:0, moving_variance:0`; the `model_config` JSON attribute says
each BatchNorm's epsilon. Layer names are TAO's, so they are read as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from taokit.errors import ModelError
from taokit.models.tao_import.layers import BatchNorm, Conv, TaoNetwork, bn_name

_HEADS = {"output_cov": "cov", "output_bbox": "bbox"}


def _layer_configs(f: Any) -> dict[str, dict[str, Any]]:
    raw = f.attrs.get("model_config")
    if raw is None:
        return {}
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        layers = json.loads(text)["config"]["layers"]
    except (ValueError, KeyError, TypeError):
        return {}
    return {layer["config"]["name"]: {"class_name": layer.get("class_name"), **layer["config"]} for layer in layers
            if isinstance(layer, dict) and "config" in layer and "name" in layer["config"]}


def _weights(group: Any) -> dict[str, np.ndarray]:
    """A layer group's datasets by short name (`kernel:0`), wherever Keras nested them."""
    found: dict[str, np.ndarray] = {}

    def visit(name: str, item: Any) -> None:
        if hasattr(item, "shape"):
            found[name.rsplit("/", 1)[-1]] = np.asarray(item[()])

    group.visititems(visit)
    return found


def read_keras_hdf5(path: Path) -> TaoNetwork:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ModelError(f"{path}: not a readable HDF5 file ({str(err).splitlines()[0][:100]}); TAO 4 and earlier "
                         ".tlt/.hdf5 files are encrypted: decrypt them with TAO's own tools first, or use the "
                         "model's deployable .onnx") from None
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        configs = _layer_configs(f)
        net = TaoNetwork(str(path))
        bn_weights: dict[str, dict[str, np.ndarray]] = {}
        for layer in root:
            if not hasattr(root[layer], "visititems"):  # a stray dataset, not a layer group
                continue
            values = _weights(root[layer])
            if "kernel:0" in values and values["kernel:0"].ndim == 4:
                kernel = values["kernel:0"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
                net.convs[layer] = Conv(kernel, values.get("bias:0"))
            elif "kernel:0" in values and values["kernel:0"].ndim == 2 and layer == "predictions":
                net.dense = (values["kernel:0"].T, values.get("bias:0", np.zeros(values["kernel:0"].shape[1])))
            elif "moving_mean:0" in values:
                bn_weights[layer] = values
        if "conv1" not in net.convs:
            raise ModelError(f"{path}: no conv1 layer in model_weights; not a TAO ResNet model "
                             f"(layers: {', '.join(list(root)[:6])}, ...)")
        for conv in net.convs:
            values = bn_weights.get(bn_name(conv))
            if values is None:
                continue
            width = net.convs[conv].kernel.shape[0]
            eps = float(configs.get(bn_name(conv), {}).get("epsilon", 1e-3))
            net.bns[conv] = BatchNorm(values.get("gamma:0", np.ones(width)), values.get("beta:0", np.zeros(width)),
                                      values["moving_mean:0"], values["moving_variance:0"], eps)
        net.heads = {role: layer for layer, role in _HEADS.items() if layer in net.convs}
        if net.dense is not None:
            net.heads = {"predictions": "predictions"}
        first = configs.get("input_1") or next((c for c in configs.values() if c.get("class_name") == "InputLayer"),
                                               None)
        shape = (first or {}).get("batch_input_shape")
        if shape and len(shape) == 4 and all(shape[1:]):
            channels_first = configs.get("conv1", {}).get("data_format", "channels_first") == "channels_first"
            c, h, w = shape[1:] if channels_first else (shape[3], shape[1], shape[2])
            net.input_chw = (int(c), int(h), int(w))
        if any(c.get("class_name") in ("QuantizedConv2D", "QDQ") for c in configs.values()):
            raise ModelError(f"{path}: a QAT model (QuantizedConv2D/QDQ layers); import the model trained without "
                             "enable_qat or its deployable .onnx")
        if any(c.get("class_name") == "MaxPooling2D" for c in configs.values()):
            net.use_pooling = True
        net.activation = _activation(path, configs)
    _check_heads(path, net)
    return net


def _activation(path: Path, configs: dict[str, dict[str, Any]]) -> str:
    """relu, or relu6 for QAT-style ReLU(max_value=6); other activations are not TAO's ResNet as taokit builds it."""
    kinds = set()
    for config in configs.values():
        if config.get("class_name") == "ReLU":
            kinds.add("relu6" if config.get("max_value") == 6.0 else "relu")
        elif config.get("class_name") == "Activation" and config.get("activation") not in ("linear", "softmax",
                                                                                              "sigmoid"):
            kinds.add(str(config.get("activation")))
    if len(kinds - {"relu"}) > 1 or not kinds <= {"relu", "relu6"}:
        raise ModelError(f"{path}: activations {sorted(kinds)}; taokit imports TAO ResNets with relu or relu6")
    return "relu6" if "relu6" in kinds else "relu"


def _check_heads(path: Path, net: TaoNetwork) -> None:
    """Heads, when there are any (NGC's pretrained_* files may hold a backbone only), must be DetectNet_v2's."""
    if net.dense is not None or not net.heads:
        return
    if set(net.heads) != {"cov", "bbox"}:
        raise ModelError(f"{path}: only one of output_cov/output_bbox; DetectNet_v2 needs both")
    cov, bbox = (net.convs[net.heads[r]].kernel.shape[0] for r in ("cov", "bbox"))
    if bbox != 4 * cov:
        raise ModelError(f"{path}: output_cov has {cov} channels and output_bbox {bbox}; DetectNet_v2 needs C and 4C")
