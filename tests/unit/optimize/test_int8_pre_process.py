"""ONNX Runtime's pre-quantization shape inference: a graph it cannot infer is a one-line export error,
and the files ORT saves when it stops stay out of the user's folder."""

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from taokit.errors import ExportError
from taokit.optimize.int8 import _pre_process


def _unknown_op_model(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Mystery", ["x"], ["y"], domain="com.example")], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                      helper.make_opsetid("com.example", 1)]), path)


def test_uninferable_graph_is_an_export_error_and_leaves_the_folder_clean(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    _unknown_op_model(tmp_path / "model.onnx")
    monkeypatch.chdir(work)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ExportError) as caught:
        _pre_process(tmp_path / "model.onnx", scratch)
    message = str(caught.value)
    assert "model.onnx" in message and "shape inference" in message and "\n" not in message
    assert list(work.iterdir()) == []  # ORT's sym_shape_infer_temp.onnx went to the scratch folder


def test_relative_paths_resolve_from_the_callers_folder(tmp_path, monkeypatch):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "model.onnx")
    (tmp_path / "scratch").mkdir()
    monkeypatch.chdir(tmp_path)
    folded = _pre_process(Path("model.onnx"), Path("scratch"))
    assert folded == tmp_path / "scratch" / "preprocessed.onnx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "scratch"]
    assert onnx.load(folded).graph.node[0].op_type == "Relu"
