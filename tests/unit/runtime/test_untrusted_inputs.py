"""Untrusted files: weights-only loads everywhere, ONNX external data kept inside its folder, image bombs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from taokit.data.image_io import read_rgb
from taokit.errors import DataError, ModelError
from taokit.runtime.ort_backend import OrtBackend

SRC = Path(__file__).resolve().parents[3] / "src" / "taokit"


def test_every_torch_load_is_weights_only() -> None:
    calls = [(p, m.group(0)) for p in SRC.rglob("*.py") for m in re.finditer(r"torch\.load\([^)]*\)", p.read_text())]
    assert calls and all("weights_only=True" in call for _, call in calls), calls


def _model_with_external_weights(folder: Path, location: str) -> Path:
    weight = numpy_helper.from_array(np.ones((1, 3, 1, 1), np.float32), "w")  # raw data: external-able
    node = helper.make_node("Conv", ["input_1", "w"], ["out"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 4, 4])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
              size_threshold=0)
    if location != "weights.bin":
        proto = onnx.load(str(path), load_external_data=False)
        for entry in proto.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = location
        path.write_bytes(proto.SerializeToString())  # onnx.save would resolve the reference
    return path


def test_external_data_outside_the_model_folder_is_refused(tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    good = _model_with_external_weights(inside, "weights.bin")
    OrtBackend(good, "cpu").close()  # weights beside the model are fine
    evil = tmp_path / "evil"
    evil.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 12)
    path = _model_with_external_weights(evil, "../secret.bin")
    with pytest.raises(ModelError, match=r"keeps its data in \.\./secret\.bin, outside the model's folder"):
        OrtBackend(path, "cpu")


def test_an_image_too_large_to_decode_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 pixels is more than twice the limit
    with pytest.raises(DataError, match="refusing to decode an image this large.*decompression bomb"):
        read_rgb(path)
