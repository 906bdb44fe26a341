"""Calibration batches all have one size: TensorRT serves one batch shape, ORT's entropy calibrator needs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taokit.optimize.calibration_batches import ImageBatches


def _preprocess(path: Path) -> np.ndarray:
    return np.full((3, 4, 4), float(path.stem), np.float32)


@pytest.mark.parametrize(("images", "batch", "expected"), [(21, 8, [8, 8]), (16, 8, [8, 8]), (5, 8, [5]), (3, 1, [1, 1, 1])])
def test_every_batch_has_the_same_size(images: int, batch: int, expected: list[int]) -> None:
    batches = ImageBatches([Path(f"{i}.png") for i in range(images)], _preprocess, batch)
    shapes = [b.shape for b in batches]
    assert [s[0] for s in shapes] == expected and len(batches) == len(expected)
    assert batches.batch_size == expected[0] and all(s[1:] == (3, 4, 4) for s in shapes)
    assert [b[0, 0, 0, 0] for b in batches] == [float(i * expected[0]) for i in range(len(expected))]  # in order


def test_ort_entropy_calibration_takes_a_set_that_does_not_divide_into_batches(tmp_path: Path) -> None:
    """21 images in batches of 8 failed inside ONNX Runtime's histogram collector before."""
    import onnx
    from onnx import TensorProto, helper

    from taokit.optimize.int8 import tensor_ranges

    conv = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 3, 3], np.linspace(-1, 1, 54).tolist())
    graph = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "conv.onnx"
    onnx.save(model, path)
    ranges = tensor_ranges(path, ImageBatches([Path(f"{i}.png") for i in range(21)], _preprocess, 8), "x")
    assert ranges["x"] > 0 and ranges["y"] > 0
