"""INT8 from one calibration set: a QDQ ONNX for ONNX Runtime on x86, a symmetric QDQ ONNX for TensorRT,
and the tensor ranges TensorRT's calibration cache needs.

- CPU profile: unsigned activations and signed per-channel weights (U8S8), the fast path of ONNX
  Runtime's x86 kernels; `reduce_range` (7-bit weights) avoids the saturation of the AVX2 kernels on
  machines without VNNI and costs almost nothing in accuracy.
- TensorRT profile: zero points 0 everywhere (TensorRT accepts only symmetric INT8), per-channel
  weights on axis 0, a dedicated Q/DQ pair per consumer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import onnx

from taokit.engine.files import atomic_path
from taokit.errors import ExportError, first_line
from taokit.optimize.calibration_batches import ImageBatches, ort_reader
from taokit.optimize.int8_files import int8_onnx_paths

log = logging.getLogger("taokit.export")


@dataclass(frozen=True)
class Int8Outputs:
    cpu_onnx: Path
    tensorrt_onnx: Path
    amax: dict[str, float]  # per-tensor |range| for TensorRT's calibration cache


def _quantize(source: Path, target: Path, batches: ImageBatches, input_name: str, tensorrt: bool,
              keep_float: list[str]) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    options = {"ActivationSymmetric": True, "WeightSymmetric": True, "DedicatedQDQPair": True} if tensorrt \
        else {"WeightSymmetric": True}
    with atomic_path(target) as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # ORT's calibrators print progress and warn about its own defaults
        quantize_static(
            str(source), str(tmp), ort_reader(batches, input_name), quant_format=QuantFormat.QDQ,
            per_channel=True, reduce_range=not tensorrt,
            activation_type=QuantType.QInt8 if tensorrt else QuantType.QUInt8, weight_type=QuantType.QInt8,
            nodes_to_exclude=keep_float or None,
            calibrate_method=CalibrationMethod.Entropy if tensorrt else CalibrationMethod.MinMax,
            extra_options=options)


def tensor_ranges(model_path: Path, batches: ImageBatches, input_name: str) -> dict[str, float]:
    """Entropy-calibrated |range| of every tensor of the FP32 model (the names TensorRT's parser uses)."""
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.calibrate import create_calibrator

    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        calibrator = create_calibrator(str(model_path), None, augmented_model_path=str(Path(tmp) / "aug.onnx"),
                                       calibrate_method=CalibrationMethod.Entropy)
        calibrator.collect_data(ort_reader(batches, input_name))
        data = calibrator.compute_data()
    ranges = {}
    for name, value in data.data.items():
        low, high = (float(v) for v in value.range_value)
        ranges[name] = max(abs(low), abs(high))
    return ranges


def _pre_process(fp32: Path, scratch: Path) -> Path:
    """Shape inference and BN folding, as ONNX Runtime recommends before quantizing; returns the folded model,
    written in `scratch` (a temporary folder). auto_merge: a Resize (the stride-8 neck's upsampling) names
    its batch `floor(1.0*batch)`, which must merge with `batch` at the next Add; without it ORT's symbolic
    inference stops (and raises a bare Exception). It runs in `scratch`: where the inference stops, ORT
    saves `sym_shape_infer_temp.onnx` and its weights as external-data files into the current folder."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32, folded = fp32.resolve(), scratch.resolve() / "preprocessed.onnx"
    try:
        with contextlib.chdir(scratch):
            quant_pre_process(str(fp32), str(folded), auto_merge=True)
    except Exception as err:  # noqa: BLE001 - ORT raises bare Exceptions for graphs it cannot infer
        raise ExportError(f"{fp32}: ONNX Runtime's shape inference before INT8 quantization failed "
                          f"({first_line(err)}); export FP32 or FP16 instead") from None
    return folded


def quantize(fp32: Path, batches: ImageBatches, input_name: str, keep_float: list[str] | None = None,
             with_ranges: bool = True) -> Int8Outputs:
    """Write the two INT8 models of `int8_onnx_paths(fp32)` (ONNX Runtime on CPUs, TensorRT) beside `fp32`."""
    cpu, trt = int8_onnx_paths(fp32)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folded = _pre_process(fp32, Path(tmp))
            _quantize(folded, cpu, batches, input_name, tensorrt=False, keep_float=keep_float or [])
            _quantize(folded, trt, batches, input_name, tensorrt=True, keep_float=keep_float or [])
        ranges = tensor_ranges(fp32, batches, input_name) if with_ranges else {}
    except (onnx.checker.ValidationError, RuntimeError, ValueError) as err:
        raise ExportError(f"{fp32}: INT8 quantization failed ({first_line(err)})") from None
    log.info("INT8 models: %s (ONNX Runtime, CPU), %s (TensorRT)", cpu, trt)
    return Int8Outputs(cpu, trt, ranges)
