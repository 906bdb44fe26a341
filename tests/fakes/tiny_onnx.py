"""Real ONNX files for the TensorRT tests: a tiny conv net exported by torch, and graph edits on it.

Not a fake: these are genuine ONNX models (checked by onnx.checker) that the fake TensorRT parses.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

INPUT = "input_1"
OUTPUTS = ("output_cov", "output_bbox")
CHW = (3, 16, 24)


class TinyDetector(torch.nn.Module):
    """Two heads like DetectNet_v2: a coverage map (sigmoid) and a box map."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                                        torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.cov = torch.nn.Conv2d(8, 2, 1)
        self.bbox = torch.nn.Conv2d(8, 8, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return torch.sigmoid(self.cov(features)), self.bbox(features)


def export_tiny(path: Path, *, dynamic: bool = True, batch: int = 2) -> Path:
    """Export TinyDetector with the legacy exporter at opset 17, as taokit's export does."""
    torch.manual_seed(0)
    model = TinyDetector().eval()
    axes = {name: {0: "batch"} for name in (INPUT, *OUTPUTS)} if dynamic else None
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(batch, *CHW),), buffer, dynamo=False, opset_version=17,
                          input_names=[INPUT], output_names=list(OUTPUTS), dynamic_axes=axes)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto)
    path.write_bytes(proto.SerializeToString())
    return path


def _after_input(model: onnx.ModelProto, nodes: list[onnx.NodeProto], last: str) -> onnx.ModelProto:
    """Insert `nodes` right after the graph input; its former consumers read `last` instead."""
    edited = onnx.ModelProto()
    edited.CopyFrom(model)
    for node in edited.graph.node:
        node.input[:] = [last if name == INPUT else name for name in node.input]
    old = list(edited.graph.node)
    del edited.graph.node[:]
    edited.graph.node.extend(nodes + old)
    return edited


def with_qdq(model: onnx.ModelProto) -> onnx.ModelProto:
    """A symmetric INT8 QuantizeLinear/DequantizeLinear pair on the input (zero point 0)."""
    scale = numpy_helper.from_array(np.array(1 / 127, dtype=np.float32), "q_scale")
    zero = numpy_helper.from_array(np.array(0, dtype=np.int8), "q_zero")
    nodes = [helper.make_node("QuantizeLinear", [INPUT, "q_scale", "q_zero"], ["input_q"]),
             helper.make_node("DequantizeLinear", ["input_q", "q_scale", "q_zero"], ["input_dq"])]
    edited = _after_input(model, nodes, "input_dq")
    edited.graph.initializer.extend([scale, zero])
    onnx.checker.check_model(edited)
    return edited


def with_fp16_casts(model: onnx.ModelProto) -> onnx.ModelProto:
    """The input cast to FP16 and back: enough to make the graph carry FP16 (as AutoCast graphs do)."""
    nodes = [helper.make_node("Cast", [INPUT], ["input_h"], to=TensorProto.FLOAT16),
             helper.make_node("Cast", ["input_h"], ["input_f"], to=TensorProto.FLOAT)]
    edited = _after_input(model, nodes, "input_f")
    onnx.checker.check_model(edited)
    return edited


def with_made_up_op(model: onnx.ModelProto, op_type: str = "TaokitMadeUpOp") -> onnx.ModelProto:
    """An identity-like node of an op type no runtime knows (not checked: onnx.checker rejects it)."""
    return _after_input(model, [helper.make_node(op_type, [INPUT], ["input_x"])], "input_x")


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TinyDetector as ONNX with a dynamic batch, exported once per session."""
    return export_tiny(tmp_path_factory.mktemp("tiny_onnx") / "tiny.onnx")
