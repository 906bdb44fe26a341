"""TensorRTBackend against a FAKE TensorRT: the engine's IO description, loading errors, buffer plumbing.

The fake executes on host memory (CPU torch tensors); real CUDA execution is covered only by
tests/gpu/test_tensorrt_real.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_tensorrt import engine_bytes, make_fake_tensorrt
from tiny_onnx import CHW, INPUT, OUTPUTS, export_tiny

from taokit.errors import DependencyError, ModelError, UsageError
from taokit.optimize.tensorrt_build import EngineRequest, build_engine
from taokit.runtime.base import infer_any_batch
from taokit.runtime.tensorrt_backend import TensorRTBackend


def _engine(tmp_path: Path, onnx_path: Path, version: str = "10.3.0", max_batch: int = 4) -> Path:
    request = EngineRequest(onnx_path=onnx_path, engine_path=tmp_path / "model.engine", max_batch=max_batch,
                            opt_batch=2)
    return build_engine(request, trt=make_fake_tensorrt(version), require_gpu=False).path


def test_io_from_a_dynamic_engine(tmp_path: Path, tiny_onnx: Path) -> None:
    backend = TensorRTBackend(_engine(tmp_path, tiny_onnx), trt=make_fake_tensorrt("10.3.0"), require_gpu=False)
    assert backend.name == "tensorrt"
    assert backend.io.input_name == INPUT
    assert backend.io.output_names == OUTPUTS
    assert backend.io.input_chw == CHW
    assert backend.io.batch is None
    assert backend.io.metadata == {"tensorrt_version": "10.3.0"}


def test_io_from_a_static_engine(tmp_path: Path) -> None:
    static = export_tiny(tmp_path / "static.onnx", dynamic=False, batch=2)
    backend = TensorRTBackend(_engine(tmp_path, static, "11.4.0"), trt=make_fake_tensorrt("11.4.0"),
                              require_gpu=False)
    assert backend.io.batch == 2


def test_infer_feeds_named_tensors(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("10.3.0")
    backend = TensorRTBackend(_engine(tmp_path, tiny_onnx, max_batch=4), trt=fake, require_gpu=False)
    batch = np.random.default_rng(0).random((6, *CHW), dtype=np.float32)
    cov, bbox = backend.infer(batch)  # 6 images through a max-batch-4 profile: two executions
    assert cov.shape == (6, 2, 8, 12) and bbox.shape == (6, 8, 8, 12) and cov.dtype == np.float32
    means = batch.reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(cov[:, 0, 0, 0], means, rtol=1e-6)  # the fake writes each image's mean
    assert fake.record.input_shapes == [(4, *CHW), (2, *CHW)] and fake.record.executions == 2
    assert set(fake.record.addresses) == {INPUT, *OUTPUTS}
    backend.close()


def test_static_engine_pads_a_short_batch(tmp_path: Path) -> None:
    static = export_tiny(tmp_path / "static.onnx", dynamic=False, batch=2)
    fake = make_fake_tensorrt("10.3.0")
    backend = TensorRTBackend(_engine(tmp_path, static), trt=fake, require_gpu=False)
    outputs = infer_any_batch(backend, np.ones((3, *CHW), np.float32))
    assert outputs[0].shape[0] == 3 and fake.record.input_shapes == [(2, *CHW), (2, *CHW)]


def test_engine_from_another_version(tmp_path: Path, tiny_onnx: Path) -> None:
    engine = _engine(tmp_path, tiny_onnx, "10.3.0")
    with pytest.raises(ModelError) as err:
        TensorRTBackend(engine, trt=make_fake_tensorrt("10.16.1"), require_gpu=False)
    assert str(err.value) == (f"{engine}: TensorRT 10.16.1 cannot load this engine: it was built with another "
                              "TensorRT version or for another GPU; rebuild it here with gen_trt_engine")


@pytest.mark.parametrize(("content", "kind"), [(b"", "an empty file"), (b"PK\x03\x04rest", "a zip archive")])
def test_not_an_engine(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "model.engine"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=f"{kind}.*not a TensorRT engine"):
        TensorRTBackend(path, trt=make_fake_tensorrt(), require_gpu=False)


def test_onnx_renamed_to_engine(tmp_path: Path, tiny_onnx: Path) -> None:
    path = tmp_path / "model.engine"
    path.write_bytes(tiny_onnx.read_bytes())
    with pytest.raises(ModelError, match="an ONNX model, not a TensorRT engine"):
        TensorRTBackend(path, trt=make_fake_tensorrt(), require_gpu=False)


def test_engine_with_two_inputs(tmp_path: Path) -> None:
    path = tmp_path / "two.engine"
    tensor = [1, *CHW], "FLOAT"
    path.write_bytes(engine_bytes({"version": "10.3.0", "inputs": [["a", *tensor], ["b", *tensor]],
                                   "outputs": [["y", *tensor]], "profiles": {}}))
    with pytest.raises(ModelError, match="expected one image input, found 2: a, b"):
        TensorRTBackend(path, trt=make_fake_tensorrt(), require_gpu=False)


def test_missing_tensorrt_and_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(DependencyError, match=r"needs TensorRT and an NVIDIA GPU: pip install 'taokit\[tensorrt\]'"):
        TensorRTBackend(tmp_path / "model.engine")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DependencyError, match="needs an NVIDIA GPU"):
        TensorRTBackend(tmp_path / "model.engine", trt=make_fake_tensorrt())
    with pytest.raises(UsageError, match="run only on a CUDA GPU"):
        TensorRTBackend(tmp_path / "model.engine", "cpu", trt=make_fake_tensorrt())
