"""TensorRT ONNX op coverage and graph facts, on real ONNX exported by torch."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import helper
from tiny_onnx import with_fp16_casts, with_made_up_op, with_qdq

from taokit.errors import ModelError
from taokit.optimize.tensorrt_ops import has_qdq, is_fp16_graph, supported_ops, unsupported_ops


def test_list_loads_from_package_data() -> None:
    ops = supported_ops()
    assert {"Conv", "Relu", "Sigmoid", "QuantizeLinear", "DequantizeLinear", "Resize", "Gemm"} <= ops
    assert not {"ConvInteger", "QLinearConv", "Unique", "MatMulInteger"} & ops
    assert all(op and not op.startswith("#") and " " not in op for op in ops)
    assert len(ops) > 150


def test_exported_conv_net_is_fully_supported(tiny_onnx: Path) -> None:
    assert unsupported_ops(tiny_onnx) == []
    assert unsupported_ops(onnx.load(str(tiny_onnx))) == []


def test_made_up_op_is_reported(tiny_onnx: Path) -> None:
    model = with_made_up_op(onnx.load(str(tiny_onnx)))
    model.graph.node.append(helper.make_node("Unique", ["output_cov"], ["u"]))
    model.graph.node.append(helper.make_node("MyPlugin", ["output_cov"], ["p"], domain="com.example"))
    assert unsupported_ops(model) == ["TaokitMadeUpOp", "Unique"]  # sorted; custom domains are plugins


def test_ops_inside_subgraphs_are_seen(tiny_onnx: Path) -> None:
    body = helper.make_graph([helper.make_node("TaokitInner", [], ["y"])], "then", [], [
        helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    model = onnx.load(str(tiny_onnx))
    model.graph.node.append(helper.make_node("If", ["cond"], ["z"], then_branch=body, else_branch=body))
    assert unsupported_ops(model) == ["TaokitInner"]


def test_qdq_and_fp16_detection(tiny_onnx: Path) -> None:
    plain = onnx.load(str(tiny_onnx))
    assert not has_qdq(plain) and not is_fp16_graph(plain)
    assert has_qdq(with_qdq(plain)) and not is_fp16_graph(with_qdq(plain))
    assert is_fp16_graph(with_fp16_casts(plain)) and not has_qdq(with_fp16_casts(plain))


def test_not_onnx(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelError, match="not a readable ONNX model"):
        unsupported_ops(bad)
    with pytest.raises(ModelError, match="ONNX file not found"):
        unsupported_ops(tmp_path / "missing.onnx")
