"""Files laid out as NVIDIA publishes them, written from a taokit model: never downloaded.

`write_keras2onnx_detectnet` writes the ONNX that TAO's keras2onnx export path produces
(shared/reference/ngc-models.md §1): input `input_1:0` with a free batch dim `N`, outputs
`output_bbox/BiasAdd:0` then `output_cov/Sigmoid:0`, Conv nodes named after the Keras layers, BatchNorm
folded into `<conv>_W_new`/`<conv>_B_new` (or left as BatchNormalization nodes), Relu or Clip(0, 6), adds
`add_k`, heads with `<layer>/kernel:0` and `<layer>/bias:0`, and TF-style explicit pads (asymmetric on
stride-2 convs of even inputs) unless `tf_pads=False`.

`write_keras_hdf5` writes a TAO 5 Keras `.hdf5` (§2): `model_config` JSON, `model_weights/<layer>/
<layer>/kernel:0` in HWIO, BN gamma/beta/moving stats.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from taokit.models.tao_resnet import SubBlock, tao_layer_name


def tf_same_pads(size: tuple[int, int], kernel: int, stride: int) -> list[int]:
    """TensorFlow's SAME padding as ONNX [top, left, bottom, right]: the extra pixel goes after."""
    pads = []
    for n in size:
        out = math.ceil(n / stride)
        total = max((out - 1) * stride + kernel - n, 0)
        pads.append((total // 2, total - total // 2))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[np.ndarray, np.ndarray]:
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight.detach() * scale[:, None, None, None]
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    return weight.numpy(), ((bias - bn.running_mean) * scale + bn.bias.detach()).numpy()


class _Graph:
    def __init__(self, fold_bn: bool, clip6: bool, tf_pads: bool) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.fold_bn, self.clip6, self.tf_pads = fold_bn, clip6, tf_pads
        self.activations = 0
        self.adds = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def conv_bn(self, x: str, size: tuple[int, int], layer: str, conv: nn.Conv2d, bn: nn.BatchNorm2d
                ) -> tuple[str, tuple[int, int]]:
        k, s = conv.kernel_size[0], conv.stride[0]
        pads = tf_same_pads(size, k, s) if self.tf_pads else [k // 2] * 4
        out_size = (math.ceil(size[0] / s), math.ceil(size[1] / s))
        if self.fold_bn:
            w, b = _fold(conv, bn)
            inputs = [x, self.const(f"{layer}_W_new", w), self.const(f"{layer}_B_new", b)]
        else:
            inputs = [x, self.const(f"{layer}/kernel:0", conv.weight.detach().numpy())]
            if conv.bias is not None:
                inputs.append(self.const(f"{layer}/bias:0", conv.bias.detach().numpy()))
        y = f"{layer}/BiasAdd:0"
        self.nodes.append(helper.make_node("Conv", inputs, [y], name=layer, kernel_shape=[k, k], strides=[s, s],
                                           pads=pads, dilations=[1, 1], group=1))
        if not self.fold_bn:
            bn_name = layer.replace("conv_", "bn_") if layer != "conv1" else "bn_conv1"
            params = [self.const(f"{bn_name}/{p}:0", getattr(bn, attr).detach().numpy()) for p, attr in
                      (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                       ("moving_variance", "running_var"))]
            out = f"{bn_name}/FusedBatchNorm:0"
            self.nodes.append(helper.make_node("BatchNormalization", [y, *params], [out], name=bn_name,
                                               epsilon=float(bn.eps)))
            y = out
        return y, out_size

    def relu(self, x: str, name: str | None = None) -> str:
        if name is None:
            self.activations += 1
            name = f"activation_{self.activations}"
        y = f"{name}/Relu:0"
        if self.clip6:
            low, high = self.const(f"{name}_min", np.array(0.0)), self.const(f"{name}_max", np.array(6.0))
            self.nodes.append(helper.make_node("Clip", [x, low, high], [y], name=f"{name}_clip"))
        else:
            self.nodes.append(helper.make_node("Relu", [x], [y], name=name))
        return y

    def add(self, a: str, b: str) -> str:
        self.adds += 1
        y = f"add_{self.adds}/add:0"
        self.nodes.append(helper.make_node("Add", [a, b], [y], name=f"add_{self.adds}"))
        return y


def _sub_block(g: _Graph, x: str, size: tuple[int, int], name: str, block: SubBlock) -> tuple[str, tuple[int, int]]:
    y, out_size = x, size
    for i in range(1, block.depth + 1):
        y, out_size = g.conv_bn(y, out_size, f"{name}_conv_{i}", getattr(block, f"conv_{i}"),
                                getattr(block, f"bn_{i}"))
        if i < block.depth:
            y = g.relu(y, f"{name}_relu_{i}")
    skip = x
    if block.has_shortcut:
        skip, _ = g.conv_bn(x, size, f"{name}_conv_shortcut", block.conv_shortcut, block.bn_shortcut)
    return g.relu(g.add(y, skip), f"{name}_relu"), out_size


def _backbone(model: nn.Module, fold_bn: bool, clip6: bool, tf_pads: bool) -> tuple[_Graph, str, tuple[int, int]]:
    net = model.backbone
    g = _Graph(fold_bn, clip6, tf_pads)
    x, size = g.conv_bn("input_1:0", model.arch.input_hw, "conv1", net.conv1, net.bn_conv1)
    x = g.relu(x)
    if isinstance(net.pool, nn.MaxPool2d):  # use_pooling: keras "same" max-pooling, TF-style pads
        pads = tf_same_pads(size, 3, 2) if tf_pads else [1, 1, 1, 1]
        g.nodes.append(helper.make_node("MaxPool", [x], ["max_pooling2d_1/MaxPool:0"], name="max_pooling2d_1",
                                        kernel_shape=[3, 3], strides=[2, 2], pads=pads))
        x, size = "max_pooling2d_1/MaxPool:0", (math.ceil(size[0] / 2), math.ceil(size[1] / 2))
    for names in net.stage_names:
        for name in names:
            x, size = _sub_block(g, x, size, name, getattr(net, name))
    return g, x, size


def _save(g: _Graph, name: str, inputs: list, outputs: list, path: Path, opset: int) -> Path:
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    proto = helper.make_model(graph, producer_name="keras2onnx", producer_version="1.7.0", domain="onnxmltools",
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 7
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


def write_keras2onnx_classifier(model: nn.Module, path: Path, *, fold_bn: bool = True, tf_pads: bool = True,
                                opset: int = 13) -> Path:
    """A TAO classifier as keras2onnx writes it: ..., GlobalAveragePool, Flatten, MatMul + Add, Softmax."""
    model = model.eval()
    g, x, _ = _backbone(model, fold_bn, False, tf_pads)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["avg_pool/Mean:0"], name="avg_pool"))
    g.nodes.append(helper.make_node("Flatten", ["avg_pool/Mean:0"], ["flatten/Reshape:0"], name="flatten"))
    dense = model.predictions
    kernel = g.const("predictions/kernel:0", dense.weight.detach().numpy().T)
    g.nodes.append(helper.make_node("MatMul", ["flatten/Reshape:0", kernel], ["predictions/MatMul:0"],
                                    name="predictions"))
    g.nodes.append(helper.make_node("Add", ["predictions/MatMul:0", g.const("predictions/bias:0",
                                                                            dense.bias.detach().numpy())],
                                    ["predictions/BiasAdd:0"], name="predictions_bias"))
    g.nodes.append(helper.make_node("Softmax", ["predictions/BiasAdd:0"], ["predictions/Softmax:0"],
                                    name="predictions/Softmax", axis=1))
    h, w = model.arch.input_hw
    return _save(g, f"resnet{model.arch.num_layers}", [
        helper.make_tensor_value_info("input_1:0", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("predictions/Softmax:0", TensorProto.FLOAT, ["N", dense.out_features])],
        path, opset)


def write_keras2onnx_detectnet(model: nn.Module, path: Path, *, fold_bn: bool = True, clip6: bool = False,
                               tf_pads: bool = True, opset: int = 13) -> Path:
    """The keras2onnx-style ONNX of a taokit DetectNetV2 built on TAO's ResNet template (eval mode)."""
    model = model.eval()
    h, w = model.arch.input_hw
    g, x, size = _backbone(model, fold_bn, clip6, tf_pads)
    heads = {}
    for layer in ("output_bbox", "output_cov"):
        conv = getattr(model, layer)
        out = f"{layer}/BiasAdd:0"
        g.nodes.append(helper.make_node(
            "Conv", [x, g.const(f"{layer}/kernel:0", conv.weight.detach().numpy()),
                     g.const(f"{layer}/bias:0", conv.bias.detach().numpy())], [out], name=layer,
            kernel_shape=[1, 1], strides=[1, 1], pads=[0, 0, 0, 0]))
        heads[layer] = (out, conv.out_channels)
    cov_out, classes = heads["output_cov"]
    g.nodes.append(helper.make_node("Sigmoid", [cov_out], ["output_cov/Sigmoid:0"], name="output_cov/Sigmoid"))
    return _save(g, f"resnet{model.arch.num_layers}_nopool_bn_detectnet_v2", [
        helper.make_tensor_value_info("input_1:0", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("output_bbox/BiasAdd:0", TensorProto.FLOAT, ["N", 4 * classes, *size]),
         helper.make_tensor_value_info("output_cov/Sigmoid:0", TensorProto.FLOAT, ["N", classes, *size])],
        path, opset)


def _keras_layers(model: nn.Module) -> list[tuple[str, str, list[tuple[str, np.ndarray]]]]:
    """(layer name, Keras class, [(weight name, value)]) in Keras order, for the HDF5 writer."""
    layers = []
    modules = dict(model.backbone.named_modules())
    for name, module in modules.items():
        layer = tao_layer_name(name)
        if isinstance(module, nn.Conv2d):
            weights = [("kernel:0", module.weight.detach().permute(2, 3, 1, 0).numpy())]
            if module.bias is not None:
                weights.append(("bias:0", module.bias.detach().numpy()))
            layers.append((layer, "Conv2D", weights))
        elif isinstance(module, nn.BatchNorm2d):
            layers.append((layer, "BatchNormalization", [
                ("gamma:0", module.weight.detach().numpy()), ("beta:0", module.bias.detach().numpy()),
                ("moving_mean:0", module.running_mean.numpy()), ("moving_variance:0", module.running_var.numpy())]))
    if hasattr(model, "predictions"):
        dense = model.predictions
        layers.append(("predictions", "Dense", [("kernel:0", dense.weight.detach().numpy().T),
                                                ("bias:0", dense.bias.detach().numpy())]))
        return layers
    for head in ("output_bbox", "output_cov"):
        conv = getattr(model, head)
        layers.append((head, "Conv2D", [("kernel:0", conv.weight.detach().permute(2, 3, 1, 0).numpy()),
                                        ("bias:0", conv.bias.detach().numpy())]))
    return layers


def write_keras_hdf5(model: nn.Module, path: Path) -> Path:
    """A TAO 5 Keras .hdf5 of a taokit DetectNetV2 or Classifier on TAO's template (Keras 2.2 layout)."""
    import h5py

    epsilon = next(m.eps for m in model.modules() if isinstance(m, nn.BatchNorm2d))

    layers = _keras_layers(model)
    config_layers = [{"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape":
                                                             [None, 3, *model.arch.input_hw]}}]
    if isinstance(model.backbone.pool, nn.MaxPool2d):
        config_layers.append({"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1", "pool_size": [3, 3],
                                                                        "strides": [2, 2], "padding": "same"}})
    for name, kind, _ in layers:
        cfg: dict[str, object] = {"name": name}
        if kind == "Conv2D":
            cfg.update(data_format="channels_first", use_bias=True, padding="same")
        elif kind == "Dense":
            cfg.update(activation="softmax")
        else:
            cfg.update(epsilon=epsilon, axis=1)
        config_layers.append({"class_name": kind, "config": cfg})
    config = {"class_name": "Model", "config": {"name": f"resnet{model.arch.num_layers}_nopool_bn_detectnet_v2",
                                                "layers": config_layers}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = [b"input_1"] + [name.encode() for name, _, _ in layers]
        weights.create_group("input_1").attrs["weight_names"] = []
        for name, _, values in layers:
            group = weights.create_group(name)
            group.attrs["weight_names"] = [f"{name}/{w}".encode() for w, _ in values]
            inner = group.create_group(name)
            for w, value in values:
                inner.create_dataset(w, data=np.asarray(value, dtype=np.float32))
    return path
