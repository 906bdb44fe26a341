"""Engine building against a FAKE TensorRT (10.x and 11.x): which API calls taokit makes, and its errors.

These tests prove the call sequence and the error handling, not that TensorRT accepts it:
tests/gpu/test_tensorrt_real.py does that on a machine with TensorRT and a GPU.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from fake_tensorrt import make_fake_tensorrt, read_engine
from tiny_onnx import CHW, INPUT, export_tiny, with_fp16_casts, with_made_up_op, with_qdq

from taokit.errors import DependencyError, ExportError, UsageError
from taokit.optimize.calibration_cache import read_calibration_cache, write_calibration_cache
from taokit.optimize.tensorrt_build import EngineRequest, build_engine


def _request(tmp_path: Path, onnx_path: Path, **changes: Any) -> EngineRequest:
    return EngineRequest(onnx_path=onnx_path, engine_path=tmp_path / "out" / "model.engine", **changes)


def _build(fake: Any, request: EngineRequest, **kwargs: Any) -> Any:
    return build_engine(request, trt=fake, require_gpu=False, **kwargs)


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


class Uploads:
    """A CPU stand-in for the CUDA upload: keeps what the calibrator handed to TensorRT."""

    def __init__(self) -> None:
        self.tensors: list[torch.Tensor] = []

    def __call__(self, batch: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        self.tensors.append(tensor)
        return tensor


def _images(*sizes: int) -> Any:
    rng = np.random.default_rng(0)
    batches = [rng.random((n, *CHW), dtype=np.float32) for n in sizes]
    return lambda: iter(batches)


def test_trt10_fp32_dynamic_batch(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("10.3.0")
    report = _build(fake, _request(tmp_path, tiny_onnx, min_batch=1, opt_batch=4, max_batch=8, workspace_gib=1.5))
    record = fake.record
    assert record.network_flags == [0]
    assert record.flags_set == []
    assert record.pool_limits == {"WORKSPACE": int(1.5 * 2**30)}
    assert record.profiles == [{INPUT: ((1, *CHW), (4, *CHW), (8, *CHW))}]
    assert record.parsed == [str(tiny_onnx)]
    built = read_engine(report.path.read_bytes())
    assert built["precision"] == "fp32" and not built["strongly_typed"]
    assert (report.precision, report.tensorrt_version) == ("fp32", "10.3.0")
    assert "TensorRT 10" in report.route and report.size_bytes == report.path.stat().st_size
    assert "MiB" in report.summary()


def test_trt10_fp16_sets_the_flag(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("10.16.1")
    report = _build(fake, _request(tmp_path, tiny_onnx, data_type="fp16"))
    assert fake.record.flags_set == ["FP16"]
    assert report.precision == "fp16" and fake.record.built[0]["precision"] == "fp16"


def test_static_batch_needs_no_profile(tmp_path: Path) -> None:
    static = export_tiny(tmp_path / "static.onnx", dynamic=False, batch=2)
    fake = make_fake_tensorrt("10.3.0")
    _build(fake, _request(tmp_path, static, max_batch=8))
    assert fake.record.profiles == []
    assert fake.record.built[0]["inputs"][0][1] == [2, *CHW]


def test_trt10_int8_calibrates_with_batches(tmp_path: Path, tiny_onnx: Path) -> None:
    fake, uploads, cache = make_fake_tensorrt("10.3.0"), Uploads(), tmp_path / "cal.bin"
    request = _request(tmp_path, tiny_onnx, data_type="int8", calibration=_images(3, 3, 2, 1), cal_batch_size=4,
                       cal_cache=cache, max_batch=8)
    report = _build(fake, request, to_device=uploads)
    record = fake.record
    assert record.flags_set == ["FP16", "INT8"]
    assert record.calibration_batch_size == 4
    assert record.calibration_profile == {INPUT: ((4, *CHW),) * 3}
    assert [t.shape for t in uploads.tensors] == [(4, *CHW)] * 3  # 9 images regrouped; the last padded
    assert record.calibration_pointers == [[t.data_ptr()] for t in uploads.tensors]
    assert torch.equal(uploads.tensors[2][1], uploads.tensors[2][0])  # padding repeats the batch's own image
    assert record.cache_reads == [None]
    assert cache.read_bytes() == record.cache_writes[0]
    assert read_calibration_cache(cache).version == 100300
    assert (report.precision, report.calibration_batches) == ("int8", 3)
    assert "entropy calibration" in report.route


def test_trt10_int8_from_existing_cache(tmp_path: Path, tiny_onnx: Path) -> None:
    cache = write_calibration_cache(tmp_path / "cal.bin", {INPUT: 1.0}, "10.3.0")
    fake = make_fake_tensorrt("10.3.0")
    report = _build(fake, _request(tmp_path, tiny_onnx, data_type="int8", cal_cache=cache))
    assert fake.record.cache_reads == [cache.read_bytes()]
    assert fake.record.calibration_pointers == [] and fake.record.cache_writes == []
    assert report.calibration_batches == 0 and str(cache) in report.route


def test_trt10_old_cache_header_is_rewritten(tmp_path: Path, tiny_onnx: Path) -> None:
    cache = write_calibration_cache(tmp_path / "cal.bin", {INPUT: 1.0}, "8.6.0")
    fake = make_fake_tensorrt("10.3.0")
    _build(fake, _request(tmp_path, tiny_onnx, data_type="int8", cal_cache=cache))
    assert fake.record.cache_reads[0].startswith(b"TRT-100300-EntropyCalibration2\n")
    assert cache.read_text().startswith("TRT-8600-")  # the user's file is left as it was


def test_ngc_cache_names_with_tf_suffix_fit_the_model(tmp_path: Path, tiny_onnx: Path) -> None:
    """NGC's resnet34_peoplenet_int8.txt names tensors `input_1:0`; a model without the suffix (or with it,
    for a cache without it) gets the cache under its own names, not silently uncalibrated layers."""
    cache = tmp_path / "resnet34_peoplenet_int8.txt"
    cache.write_text(f"TRT-8001-EntropyCalibration2\n{INPUT}:0: 3c010a14\n(Unnamed Layer* 3) [Shuffle]_output: 3c010a14\n")
    fake = make_fake_tensorrt("10.3.0")
    _build(fake, _request(tmp_path, tiny_onnx, data_type="int8", cal_cache=cache))
    handed = fake.record.cache_reads[0].decode()
    assert handed.splitlines()[1] == f"{INPUT}: 3c010a14" and "(Unnamed Layer* 3)" in handed
    assert cache.read_text().splitlines()[1].startswith(f"{INPUT}:0")  # the user's file is unchanged
    both = tmp_path / "both_int8.txt"  # both spellings of one tensor: keep them apart, never two lines for one
    both.write_text(f"TRT-8001-EntropyCalibration2\n{INPUT}: 3c010a14\n{INPUT}:0: 3c010a15\n")
    fake = make_fake_tensorrt("10.3.0")
    _build(fake, _request(tmp_path / "b", tiny_onnx, data_type="int8", cal_cache=both))
    assert fake.record.cache_reads[0].decode().count(f"{INPUT}: ") == 1
    other = tmp_path / "other_int8.txt"
    other.write_text("TRT-8001-EntropyCalibration2\nsome_other_model/Relu:0: 3c010a14\n")
    with pytest.raises(ExportError, match="names none of the model's tensors"):
        _build(make_fake_tensorrt("10.3.0"), _request(tmp_path / "o", tiny_onnx, data_type="int8", cal_cache=other))


def test_trt10_malformed_cache_is_reported(tmp_path: Path, tiny_onnx: Path) -> None:
    cache = tmp_path / "cal.bin"
    cache.write_text("TRT-100300-EntropyCalibration2\ninput_1 3c010a14\n")
    with pytest.raises(ExportError, match=f"{cache}:2: expected '<tensor name>: <hex scale>'"):
        _build(make_fake_tensorrt("10.3.0"), _request(tmp_path, tiny_onnx, data_type="int8", cal_cache=cache))


def test_trt10_int8_qdq_needs_no_calibrator(tmp_path: Path, tiny_onnx: Path) -> None:
    qdq = _save(with_qdq(onnx.load(str(tiny_onnx))), tmp_path / "tiny_int8_trt.onnx")
    fake = make_fake_tensorrt("10.3.0")
    report = _build(fake, _request(tmp_path, qdq, data_type="int8"))
    assert fake.record.calibrator is None and fake.record.calibration_profile is None
    assert "INT8" in fake.record.flags_set and "Q/DQ" in report.route


def test_trt10_int8_without_data_or_cache(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(ExportError, match="INT8 needs calibration images"):
        _build(make_fake_tensorrt("10.3.0"), _request(tmp_path, tiny_onnx, data_type="int8"))


def test_calibration_batch_of_wrong_shape(tmp_path: Path, tiny_onnx: Path) -> None:
    bad = lambda: iter([np.zeros((4, 3, 8, 8), np.float32)])  # noqa: E731
    request = _request(tmp_path, tiny_onnx, data_type="int8", calibration=bad, cal_batch_size=4)
    with pytest.raises(ExportError, match=r"calibration batch has shape \(4, 3, 8, 8\)"):
        _build(make_fake_tensorrt("10.3.0"), request, to_device=Uploads())


def test_trt11_is_strongly_typed(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("11.4.0")
    report = _build(fake, _request(tmp_path, tiny_onnx))
    assert fake.record.network_flags == [1 << 1]
    assert fake.record.flags_set == [] and report.precision == "fp32"
    assert "strongly typed" in report.route and read_engine(report.path.read_bytes())["strongly_typed"]


def test_trt11_refuses_int8_without_qdq(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(ExportError, match="pass the tiny_int8_trt.onnx that `export --data_type int8` writes") as err:
        _build(make_fake_tensorrt("11.0.0"), _request(tmp_path, tiny_onnx, data_type="int8",
                                                      calibration=_images(4)))
    assert "\n" not in str(err.value)


def test_trt11_builds_int8_from_qdq(tmp_path: Path, tiny_onnx: Path) -> None:
    qdq = _save(with_qdq(onnx.load(str(tiny_onnx))), tmp_path / "tiny_int8_trt.onnx")
    fake = make_fake_tensorrt("11.4.0")
    report = _build(fake, _request(tmp_path, qdq, data_type="int8", cal_cache=tmp_path / "ignored.bin"))
    assert report.precision == "int8" and fake.record.flags_set == []
    assert fake.record.calibrator is None and not (tmp_path / "ignored.bin").exists()


def test_trt11_fp16_needs_an_fp16_graph(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(ExportError, match="strongly typed and this ONNX is FP32"):
        _build(make_fake_tensorrt("11.4.0"), _request(tmp_path, tiny_onnx, data_type="fp16"))
    casted = _save(with_fp16_casts(onnx.load(str(tiny_onnx))), tmp_path / "fp16.onnx")
    assert _build(make_fake_tensorrt("11.4.0"), _request(tmp_path, casted, data_type="fp16")).precision == "fp16"


def test_without_tensorrt(tmp_path: Path, tiny_onnx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # makes `import tensorrt` raise ImportError
    with pytest.raises(DependencyError) as err:
        build_engine(_request(tmp_path, tiny_onnx))
    assert str(err.value).startswith("gen_trt_engine needs TensorRT and an NVIDIA GPU: pip install "
                                     "'taokit[tensorrt]' on the deployment machine (")
    assert "\n" not in str(err.value)


def test_without_gpu(tmp_path: Path, tiny_onnx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DependencyError, match="needs an NVIDIA GPU"):
        build_engine(_request(tmp_path, tiny_onnx), trt=make_fake_tensorrt("10.3.0"))


def test_parse_errors_become_one_line(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("10.3.0", unsupported=frozenset({"Relu", "MaxPool"}))
    with pytest.raises(ExportError) as err:
        _build(fake, _request(tmp_path, tiny_onnx))
    message = str(err.value)
    assert "\n" not in message and "cannot parse this ONNX" in message
    assert "No importer registered for op: Relu (and 1 more)" in message
    assert not (tmp_path / "out" / "model.engine").exists()


def test_parse_error_names_unsupported_ops(tmp_path: Path, tiny_onnx: Path) -> None:
    made_up = _save(with_made_up_op(onnx.load(str(tiny_onnx))), tmp_path / "odd.onnx")
    fake = make_fake_tensorrt("10.3.0", unsupported=frozenset({"TaokitMadeUpOp"}))
    with pytest.raises(ExportError, match="ops TensorRT does not support: TaokitMadeUpOp$"):
        _build(fake, _request(tmp_path, made_up))


def test_failed_build_writes_nothing(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(ExportError, match="could not build the engine"):
        _build(make_fake_tensorrt("10.3.0", fail_build=True), _request(tmp_path, tiny_onnx))
    assert not (tmp_path / "out" / "model.engine").exists()


def test_input_checks(tmp_path: Path, tiny_onnx: Path) -> None:
    fake = make_fake_tensorrt("10.3.0")
    with pytest.raises(ExportError, match="the input is named 'input_1', not 'image'"):
        _build(fake, _request(tmp_path, tiny_onnx, input_name="image"))
    with pytest.raises(ExportError, match=r"is \(3, 16, 24\), not \(3, 32, 32\)"):
        _build(fake, _request(tmp_path, tiny_onnx, input_chw=(3, 32, 32)))


def test_request_validation(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(UsageError, match="choose fp32, fp16 or int8"):
        _request(tmp_path, tiny_onnx, data_type="int4")
    with pytest.raises(UsageError, match="min_batch_size"):
        _request(tmp_path, tiny_onnx, min_batch=4, opt_batch=2, max_batch=8)


def test_tensorrt_9_is_too_old(tmp_path: Path, tiny_onnx: Path) -> None:
    with pytest.raises(DependencyError, match="TensorRT 9.2.0 is too old"):
        _build(make_fake_tensorrt("9.2.0"), _request(tmp_path, tiny_onnx))
