"""Real TensorRT on a real GPU: build engines from a torch-exported ONNX and compare with ONNX Runtime.

Skipped unless `import tensorrt` works and CUDA is available: these are the checks the fake-based
unit tests cannot make (that TensorRT accepts our calls, calibrates, and computes the same outputs).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

trt = pytest.importorskip("tensorrt")

from taokit.errors import ModelError  # noqa: E402
from taokit.optimize.calibration_cache import read_calibration_cache, trt_version_number  # noqa: E402
from taokit.optimize.tensorrt_build import EngineRequest, build_engine  # noqa: E402
from taokit.runtime.tensorrt_backend import TensorRTBackend  # noqa: E402

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
MAJOR = int(trt.__version__.split(".")[0])
CHW = (3, 32, 48)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                                        torch.nn.ReLU(), torch.nn.Conv2d(16, 16, 3, stride=2, padding=1),
                                        torch.nn.ReLU())
        self.cov = torch.nn.Conv2d(16, 2, 1)
        self.bbox = torch.nn.Conv2d(16, 8, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return torch.sigmoid(self.cov(f)), self.bbox(f)


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("trt") / "net.onnx"
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Net().eval(), (torch.zeros(1, *CHW),), buffer, dynamo=False, opset_version=17,
                          input_names=["input_1"], output_names=["output_cov", "output_bbox"],
                          dynamic_axes={n: {0: "batch"} for n in ("input_1", "output_cov", "output_bbox")})
    path.write_bytes(buffer.getvalue())
    return path


def _images(count: int = 8) -> np.ndarray:
    return np.random.default_rng(0).random((count, *CHW), dtype=np.float32)


def _reference(onnx_file: Path, batch: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_1": batch})


def _run(engine: Path, batch: np.ndarray) -> list[np.ndarray]:
    backend = TensorRTBackend(engine)
    try:
        return backend.infer(batch)
    finally:
        backend.close()


@pytest.mark.parametrize(("data_type", "atol"), [("fp32", 1e-3), ("fp16", 3e-2)])
def test_engine_matches_onnxruntime(tmp_path: Path, onnx_path: Path, data_type: str, atol: float) -> None:
    if MAJOR >= 11 and data_type == "fp16":
        pytest.skip("TensorRT 11 builds FP16 only from an FP16 ONNX")
    request = EngineRequest(onnx_path=onnx_path, engine_path=tmp_path / f"{data_type}.engine",
                            data_type=data_type, min_batch=1, opt_batch=4, max_batch=8)
    report = build_engine(request)
    batch = _images(8)
    for got, want in zip(_run(report.path, batch), _reference(onnx_path, batch), strict=True):
        np.testing.assert_allclose(got, want, atol=atol)


@pytest.mark.skipif(MAJOR >= 11, reason="TensorRT 11 removed the INT8 calibrators")
def test_int8_calibration_writes_a_reusable_cache(tmp_path: Path, onnx_path: Path) -> None:
    cache = tmp_path / "cal.bin"
    images = _images(16)
    request = EngineRequest(onnx_path=onnx_path, engine_path=tmp_path / "int8.engine", data_type="int8",
                            cal_cache=cache, calibration=lambda: iter([images[:8], images[8:]]),
                            cal_batch_size=8, max_batch=8)
    report = build_engine(request)
    assert report.calibration_batches == 2
    parsed = read_calibration_cache(cache)
    assert parsed.version == trt_version_number(trt.__version__) and "input_1" in parsed.scales
    again = build_engine(EngineRequest(onnx_path=onnx_path, engine_path=tmp_path / "again.engine",
                                       data_type="int8", cal_cache=cache, max_batch=8))
    assert again.calibration_batches == 0
    outputs = _run(again.path, images[:4])
    assert all(np.isfinite(o).all() for o in outputs)


def test_int8_from_qdq_onnx(tmp_path: Path, onnx_path: Path) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{"input_1": b[None]} for b in _images(8)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    qdq = tmp_path / "net_int8_trt.onnx"
    quantize_static(str(onnx_path), str(qdq), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "DedicatedQDQPair": True})
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(qdq)).graph.node)
    report = build_engine(EngineRequest(onnx_path=qdq, engine_path=tmp_path / "qdq.engine", data_type="int8",
                                        max_batch=4))
    assert report.precision == "int8"
    cov, _ = _run(report.path, _images(4))
    want, _ = _reference(onnx_path, _images(4))
    assert np.abs(cov - want).mean() < 0.05


def test_garbage_is_not_an_engine(tmp_path: Path) -> None:
    path = tmp_path / "garbage.engine"
    path.write_bytes(b"\x00" * 1024)
    with pytest.raises(ModelError, match="garbage.engine: (TensorRT|not a TensorRT engine)"):
        TensorRTBackend(path)
