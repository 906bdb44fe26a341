"""Names of the files an INT8 export writes beside the FP32 ONNX (kept light: the CLI checks them early)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Int8Files(NamedTuple):
    cpu: Path  # U8S8 QDQ for ONNX Runtime on x86 CPUs
    tensorrt: Path  # symmetric QDQ that TensorRT builds INT8 engines from


def int8_onnx_paths(fp32: Path) -> Int8Files:
    return Int8Files(fp32.with_name(f"{fp32.stem}_int8.onnx"), fp32.with_name(f"{fp32.stem}_int8_trt.onnx"))
