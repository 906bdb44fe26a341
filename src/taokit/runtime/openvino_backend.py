"""OpenVINO as a Backend for .onnx files on the CPU: FP32 and taokit's INT8 QDQ files as they are.

On CPUs with AVX-512 VNNI it runs taokit's INT8 files a little faster than ONNX Runtime and FP32 files as
fast (docs/performance.md); the optional extra `pip install 'taokit[openvino]'` brings it, imported only here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from taokit.errors import DependencyError, ModelError, UsageError, first_line
from taokit.runtime.base import ModelIO, cpu_threads
from taokit.runtime.onnx_safety import check_external_data

log = logging.getLogger(__name__)


def _dim(value: Any) -> int | None:
    return int(value.get_length()) if value.is_static and value.get_length() > 0 else None


def _metadata(path: Path) -> dict[str, str]:
    """The ONNX file's metadata_props (taokit's arch and spec records): OpenVINO does not expose them."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


PRECISIONS = ("f32", "bf16", "f16")


def _precision() -> str:
    value = os.environ.get("TAOKIT_OPENVINO_PRECISION", "f32").strip().lower() or "f32"
    if value not in PRECISIONS:
        raise UsageError(f"TAOKIT_OPENVINO_PRECISION={value}: choose {', '.join(PRECISIONS)}")
    return value


class OpenVinoBackend:
    name = "openvino"

    def __init__(self, path: Path, device: str | None = None, threads: int = 0) -> None:
        if device and device != "cpu":
            raise UsageError(f"--device {device}: taokit runs OpenVINO on the CPU; use onnxruntime or tensorrt "
                             "for a GPU")
        try:
            import openvino as ov
        except ImportError:
            raise DependencyError("--backend openvino needs OpenVINO: pip install 'taokit[openvino]'") from None
        check_external_data(Path(path))
        core = ov.Core()
        try:
            model = core.read_model(str(path))
        except Exception as err:  # noqa: BLE001 - OpenVINO raises RuntimeError subclasses for bad files
            raise ModelError(f"{path}: OpenVINO cannot read this model ({first_line(err)})") from None
        if len(model.inputs) != 1:
            raise ModelError(f"{path}: expected one image input, found {len(model.inputs)}")
        shape = list(model.inputs[0].get_partial_shape()) + [None] * 4
        dims = [_dim(d) if d is not None else None for d in shape[:4]]
        # One request at a time with all cores on it. f32 stays f32: on CPUs with bf16 OpenVINO would run an FP32
        # file in bf16 (twice as fast, measured, and not the numbers a user compares with ONNX Runtime's);
        # TAOKIT_OPENVINO_PRECISION=bf16 asks for that knowingly.
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": _precision()}
        threads = threads or cpu_threads()
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            self.compiled = core.compile_model(model, "CPU", config)
        except Exception as err:  # noqa: BLE001
            raise ModelError(f"{path}: OpenVINO cannot compile this model ({first_line(err)})") \
                from None
        self.request = self.compiled.create_infer_request()
        outputs = self.compiled.outputs
        names = tuple(o.get_any_name() for o in outputs)
        channels = tuple(_dim(o.get_partial_shape()[1]) if len(o.get_partial_shape()) > 1 else None for o in outputs)
        self.io = ModelIO(model.inputs[0].get_any_name(), names, (dims[1], dims[2], dims[3]), dims[0],
                          _metadata(Path(path)), channels)

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        result = self.request.infer({0: np.ascontiguousarray(batch, dtype=np.float32)})
        return [np.asarray(result[o], dtype=np.float32) for o in self.compiled.outputs]

    def close(self) -> None:
        del self.request, self.compiled
