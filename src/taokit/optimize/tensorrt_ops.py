"""What TensorRT will make of an ONNX graph, found before a GPU is involved: ops it lacks, Q/DQ, FP16."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import onnx

from taokit.errors import ModelError
from taokit.runtime.onnx_safety import check_external_data

OPS_FILE = "tensorrt_onnx_ops.txt"
_DEFAULT_DOMAINS = ("", "ai.onnx")
_QDQ = ("QuantizeLinear", "DequantizeLinear")


@cache
def supported_ops() -> frozenset[str]:
    """The ONNX op types TensorRT's parser imports (data/tensorrt_onnx_ops.txt, from onnx-tensorrt)."""
    text = resources.files("taokit.optimize").joinpath("data", OPS_FILE).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def load_onnx(model: onnx.ModelProto | Path) -> onnx.ModelProto:
    """`model` itself, or the ONNX file it names (external weights are not needed to read the graph)."""
    if isinstance(model, onnx.ModelProto):
        return model
    path = Path(model)
    if not path.is_file():
        raise ModelError(f"{path}: ONNX file not found")
    check_external_data(path)
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as err:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning-like types
        raise ModelError(f"{path}: not a readable ONNX model ({str(err).splitlines()[0][:120]})") from None


def iter_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node of `graph`, including those inside If/Loop/Scan bodies."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from iter_nodes(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for sub in attribute.graphs:
                    yield from iter_nodes(sub)


def unsupported_ops(model: onnx.ModelProto | Path) -> list[str]:
    """Sorted op types of the default ONNX domain that TensorRT's parser has no importer for.

    Ops of custom domains are skipped: they are plugins, which only the target machine can judge.
    """
    proto = load_onnx(model)
    known = supported_ops()
    found = {n.op_type for n in iter_nodes(proto.graph) if n.domain in _DEFAULT_DOMAINS}
    return sorted(found - known)


def has_qdq(model: onnx.ModelProto | Path) -> bool:
    """True when the graph carries explicit quantization (QuantizeLinear/DequantizeLinear nodes).

    Such a graph builds as INT8 on TensorRT 10 without a calibrator and is the only INT8 route on 11.
    """
    return any(n.op_type in _QDQ for n in iter_nodes(load_onnx(model).graph))


def is_fp16_graph(model: onnx.ModelProto | Path) -> bool:
    """True when the graph itself computes in FP16 (FP16 inputs, weights or casts to FP16).

    TensorRT 11 networks are strongly typed: an FP32 graph builds as FP32 whatever is asked.
    """
    graph = load_onnx(model).graph
    fp16 = onnx.TensorProto.FLOAT16
    if any(v.type.tensor_type.elem_type == fp16 for v in graph.input):
        return True
    if any(t.data_type == fp16 for t in graph.initializer):
        return True
    for node in iter_nodes(graph):
        if node.op_type == "Cast" and any(a.name == "to" and a.i == fp16 for a in node.attribute):
            return True
        if node.op_type == "Constant" and any(a.t.data_type == fp16 for a in node.attribute if a.name == "value"):
            return True
    return False
