"""Read a deployable ONNX of a TAO ResNet network (keras2onnx's layout, ngc-models.md §1) into a TaoNetwork.

The graph is walked by structure, not by names: the stem conv, then every Add closes a sub-block whose
main path is a chain of convs from the sub-block's input and whose shortcut is one conv or the input
itself. Sub-blocks get TAO's names by position, which the depth fixes (1,1,1,1 / 2,2,2,2 / 3,4,6,3).
BatchNorm may be folded into the convs (`_W_new`/`_B_new`) or be its own node; activations are Relu or
Clip(0, 6); pads are kept as written, a Pad node's included.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.models.tao_import.layers import BatchNorm, Conv, TaoNetwork, cov_bbox_order

_PASS = ("Identity", "Dropout")
_STAGES = {4: (1, 1, 1, 1), 8: (2, 2, 2, 2), 16: (3, 4, 6, 3)}


class _Graph:
    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        from taokit.runtime.onnx_safety import check_external_data

        check_external_data(path)  # external weights must stay beside the file
        try:
            model = onnx.load(str(path))
        except Exception as err:  # noqa: BLE001 - protobuf raises several types for non-ONNX files
            raise ModelError(f"{path}: not an ONNX model ({str(err).splitlines()[0][:120]})") from None
        self.path = path
        self.graph = model.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        for node in model.graph.node:  # some exporters write weights and scalars as Constant nodes
            if node.op_type == "Constant" and node.attribute:
                value = _constant(node.attribute[0])
                if value is not None:
                    self.consts[node.output[0]] = value
        self.producer = {o: n for n in model.graph.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for node in model.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.path}: not a TAO ResNet network as NVIDIA exports it: {what}")

    def attr(self, node, name: str, default=None):  # noqa: ANN001, ANN201 - onnx protobuf types
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    def only_consumer(self, tensor: str):  # noqa: ANN201
        """The one node reading `tensor`, or None when several (or none) do."""
        users = self.consumers.get(tensor, [])
        return users[0] if len(users) == 1 else None

    def skip_back(self, tensor: str, ops: tuple[str, ...]) -> str:
        while (node := self.producer.get(tensor)) is not None and node.op_type in ops:
            tensor = node.input[0]
        return tensor


def _constant(attribute) -> np.ndarray | None:  # noqa: ANN001 - onnx AttributeProto
    """A Constant node's value, whichever `value*` attribute holds it (None for sparse or strings)."""
    from onnx import helper, numpy_helper

    if attribute.name == "value":
        return numpy_helper.to_array(attribute.t)
    if attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
        return np.asarray(helper.get_attribute_value(attribute))
    return None


def _pad_amounts(g: _Graph, node) -> list[int]:  # noqa: ANN001
    """A Pad node's [n, c, h, w] begins then ends, refused unless it is a constant zero pad of all 4 axes."""
    mode = g.attr(node, "mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    raw = g.consts.get(node.input[1]) if len(node.input) > 1 and node.input[1] else g.attr(node, "pads")
    value = g.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    axes = len(node.input) > 3 and node.input[3]
    amounts = [int(v) for v in np.asarray(raw).ravel()] if raw is not None else []
    if mode != "constant" or len(amounts) != 8 or axes or (value is not None and float(np.asarray(value)) != 0.0):
        raise g.fail(f"Pad {node.name or node.output[0]} is not a constant zero pad of an NCHW tensor")
    return amounts


def _conv(g: _Graph, node, pad_node) -> Conv:  # noqa: ANN001
    if len(node.input) < 2 or node.input[1] not in g.consts:
        raise g.fail(f"conv {node.name or node.output[0]} has no constant weights")
    kernel = g.consts[node.input[1]]
    bias = g.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if (g.attr(node, "group", 1) or 1) != 1:
        raise g.fail(f"conv {node.name} is grouped; TAO's ResNet has none")
    strides = list(g.attr(node, "strides", [1, 1]) or [1, 1])
    auto = g.attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto not in ("NOTSET", "VALID", ""):
        raise g.fail(f"conv {node.name} uses auto_pad {auto}; re-export with explicit pads")
    pads = list(g.attr(node, "pads", [0, 0, 0, 0]) or [0, 0, 0, 0])
    if pad_node is not None:
        extra = _pad_amounts(g, pad_node)  # [n, c, h, w] begins, then ends
        pads = [pads[0] + extra[2], pads[1] + extra[3], pads[2] + extra[6], pads[3] + extra[7]]
    return Conv(kernel, bias, int(strides[0]), [int(p) for p in pads])


def _batch_norm(g: _Graph, node) -> BatchNorm:  # noqa: ANN001
    try:
        gamma, beta, mean, var = (g.consts[name] for name in node.input[1:5])
    except KeyError:
        raise g.fail(f"BatchNormalization {node.name} has no constant parameters") from None
    return BatchNorm(gamma, beta, mean, var, float(g.attr(node, "epsilon", 1e-5)))


class _Walker:
    def __init__(self, g: _Graph, net: TaoNetwork) -> None:
        self.g, self.net = g, net
        self.kinds: set[str] = set()

    def conv_before(self, tensor: str) -> tuple[object, str] | None:
        """The conv (and its BN) that produces `tensor`, walking back through BN; None if none does."""
        g = self.g
        bn = None
        node = g.producer.get(g.skip_back(tensor, _PASS))
        if node is not None and node.op_type == "BatchNormalization":
            bn = node
            node = g.producer.get(g.skip_back(node.input[0], _PASS))
        if node is None or node.op_type != "Conv":
            return None
        pad = g.producer.get(node.input[0])
        pad = pad if pad is not None and pad.op_type == "Pad" else None
        return (node, bn, pad), (pad.input[0] if pad is not None else node.input[0])

    def activation(self, tensor: str) -> str:
        """The tensor before the Relu/Clip that produces `tensor` (and notes Clip(0, 6))."""
        g = self.g
        node = g.producer.get(g.skip_back(tensor, _PASS))
        if node is None or node.op_type not in ("Relu", "Clip"):
            raise g.fail(f"expected a Relu or Clip before {tensor}, found {node.op_type if node else 'the input'}")
        kind = "relu"
        if node.op_type == "Clip":  # opset >= 11: min/max inputs; older: attributes
            low = g.consts.get(node.input[1]) if len(node.input) > 1 and node.input[1] else g.attr(node, "min")
            high = g.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else g.attr(node, "max")
            if low is None or high is None or float(np.asarray(low)) != 0.0 or abs(float(np.asarray(high)) - 6) > 1e-6:
                raise g.fail(f"Clip {node.name or node.output[0]} is not Clip(0, 6) (ReLU6)")
            kind = "relu6"
        if self.kinds and kind not in self.kinds:
            raise g.fail("it mixes Relu and Clip(0, 6) activations; TAO's template uses one kind throughout")
        self.kinds.add(kind)
        self.net.activation = kind
        return node.input[0]

    def chain(self, tensor: str, start: str) -> list[tuple[object, object, object]]:
        """Convs from `start` to `tensor` (main path of a sub-block), in forward order."""
        found = []
        while self.g.skip_back(tensor, _PASS) != start:
            step = self.conv_before(tensor)
            if step is None:
                raise self.g.fail(f"cannot follow a sub-block back from {tensor} to {start}")
            found.insert(0, step[0])
            tensor = step[1]
            if self.g.skip_back(tensor, _PASS) != start:
                tensor = self.activation(tensor)
        return found


def _stem(g: _Graph, walker: _Walker, net: TaoNetwork) -> str:
    """Record conv1 and return the tensor the first sub-block reads."""
    first = next((n for n in g.graph.node if n.op_type == "Conv"), None)
    if first is None:
        raise g.fail("it has no convolution")
    pad = g.producer.get(first.input[0])
    net.convs["conv1"] = _conv(g, first, pad if pad is not None and pad.op_type == "Pad" else None)
    tensor = first.output[0]
    while (node := g.only_consumer(tensor)) is not None and node.op_type in (
            "BatchNormalization", "Relu", "Clip", "MaxPool", *_PASS):
        if node.op_type == "BatchNormalization":
            net.bns["conv1"] = _batch_norm(g, node)
        elif node.op_type == "MaxPool":
            net.use_pooling = True
            kernel, strides = g.attr(node, "kernel_shape", []), g.attr(node, "strides", [1, 1])
            if list(kernel) != [3, 3] or list(strides) != [2, 2]:
                raise g.fail(f"max-pool {node.name} is {list(kernel)}/{list(strides)}; TAO's template pools 3x3/2")
            net.pool_pads = [int(p) for p in (g.attr(node, "pads", [0, 0, 0, 0]) or [0, 0, 0, 0])]
        elif node.op_type == "Clip":
            walker.activation(node.output[0])
        tensor = node.output[0]
    return tensor


def read_onnx(path: Path) -> TaoNetwork:
    """The backbone and heads of a deployable ONNX: DetectNet_v2's two 1x1 convs or a classifier's dense layer."""
    g = _Graph(path)
    net = TaoNetwork(str(path))
    inputs = [i for i in g.graph.input if i.name not in g.consts]
    if len(inputs) != 1:
        raise g.fail(f"expected one image input, found {len(inputs)}")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[1] != 3:
        raise g.fail(f"input {inputs[0].name} is {dims or 'of unknown shape'}; expected N x 3 x H x W (NCHW, RGB)")
    if all(dims[2:]):
        net.input_chw = (dims[1], dims[2], dims[3])
    walker = _Walker(g, net)
    tensor = _stem(g, walker, net)
    blocks: list[tuple[list, object | None]] = []
    while (add := _next_add(g, tensor)) is not None:
        branches = [walker.chain(t, tensor) if g.skip_back(t, _PASS) != tensor else [] for t in add.input[:2]]
        main, short = sorted(branches, key=len, reverse=True)
        if len(main) < 2 or len(short) > 1:
            raise g.fail(f"the sub-block ending at {add.name or add.output[0]} has paths of {len(main)} and "
                         f"{len(short)} convs")
        blocks.append((main, short[0] if short else None))
        relu = _follow(g, g.only_consumer(add.output[0]))
        if relu is None or relu.op_type not in ("Relu", "Clip"):
            raise g.fail(f"no Relu after {add.name or add.output[0]}")
        walker.activation(relu.output[0])
        tensor = relu.output[0]
    stages = _STAGES.get(len(blocks))
    if stages is None:
        raise g.fail(f"{len(blocks)} residual sub-blocks; TAO's ResNet 10/18/34/50 has 4, 8 or 16")
    names = [f"block_{s + 1}{string.ascii_lowercase[k]}" for s, n in enumerate(stages) for k in range(n)]
    for name, (main, short) in zip(names, blocks, strict=True):
        for i, (conv, bn, pad) in enumerate(main, start=1):
            _record(g, net, f"{name}_conv_{i}", conv, bn, pad)
        if short is not None:
            _record(g, net, f"{name}_conv_shortcut", *short)
    _heads(g, net, tensor)
    return net


def _output_names(g: _Graph, convs: list) -> dict[str, object]:
    """The graph's input and (coverage, bbox) output names as the file writes them, and its output order."""
    outputs = [o.name for o in g.graph.output]
    found = []
    for conv in convs:  # the head's own output, or the Sigmoid (Identity, ...) after it
        tensor, node = conv.output[0], conv
        while tensor not in outputs and (node := g.only_consumer(tensor)) is not None:
            tensor = node.output[0]
        found.append(tensor if tensor in outputs else None)
    cov, bbox = found
    if cov is None or bbox is None:
        return {}
    inputs = [i.name for i in g.graph.input if i.name not in g.consts]
    return {"input": inputs[0], "cov": cov, "bbox": bbox, "bbox_first": outputs.index(bbox) < outputs.index(cov)}


def _follow(g: _Graph, node):  # noqa: ANN001, ANN202
    while node is not None and node.op_type in _PASS:
        node = g.only_consumer(node.output[0])
    return node


def _heads(g: _Graph, net: TaoNetwork, features: str) -> None:
    """DetectNet_v2's heads (1x1 convs, told apart by channel count C vs 4C) or a classifier's dense layer."""
    while (nxt := g.only_consumer(features)) is not None and nxt.op_type in _PASS:
        features = nxt.output[0]
    convs = [n for n in (_follow(g, c) for c in g.consumers.get(features, [])) if n is not None and n.op_type == "Conv"]
    if len(convs) == 2:
        heads = [_conv(g, n, None) for n in convs]
        order = cov_bbox_order(heads[0].kernel.shape[0], heads[1].kernel.shape[0])
        if order is None:
            raise g.fail(f"the two heads have {heads[0].kernel.shape[0]} and {heads[1].kernel.shape[0]} channels; "
                         "DetectNet_v2's have C and 4C")
        net.convs["output_cov"], net.convs["output_bbox"] = heads[order[0]], heads[order[1]]
        net.heads = {"cov": "output_cov", "bbox": "output_bbox"}
        net.onnx_names = _output_names(g, [convs[order[0]], convs[order[1]]])
        return
    node = _follow(g, g.only_consumer(features))
    while node is not None and node.op_type in ("GlobalAveragePool", "ReduceMean", "AveragePool", "Flatten",
                                                 "Reshape", "Squeeze"):
        node = _follow(g, g.only_consumer(node.output[0]))
    if node is not None and node.op_type in ("Gemm", "MatMul") and node.input[1] in g.consts:
        weight = g.consts[node.input[1]]
        transposed = node.op_type == "Gemm" and g.attr(node, "transB", 0)
        weight = weight if transposed else weight.T  # (out, in)
        bias = g.consts.get(node.input[2]) if len(node.input) > 2 else None
        if bias is None and (add := g.only_consumer(node.output[0])) is not None and add.op_type == "Add":
            bias = next((g.consts[i] for i in add.input if i in g.consts), None)
        net.dense = (weight, bias if bias is not None else np.zeros(weight.shape[0], dtype=np.float32))
        net.heads = {"predictions": "predictions"}
    # else: a backbone only (heads, if any, of a kind taokit does not import); trainable from, not importable


def _record(g: _Graph, net: TaoNetwork, layer: str, conv, bn, pad) -> None:  # noqa: ANN001
    net.convs[layer] = _conv(g, conv, pad)
    if bn is not None:
        net.bns[layer] = _batch_norm(g, bn)


def _next_add(g: _Graph, tensor: str):  # noqa: ANN202
    """The Add that closes the sub-block reading `tensor` (the first Add reachable from it)."""
    frontier, seen = [tensor], set()
    while frontier:
        current = frontier.pop(0)
        for node in g.consumers.get(current, []):
            if node.op_type == "Add" and all(i not in g.consts for i in node.input):
                return node
            if node.op_type in ("Conv", "BatchNormalization", "Relu", "Clip", "Pad", *_PASS) and id(node) not in seen:
                seen.add(id(node))
                frontier.extend(node.output)
    return None
