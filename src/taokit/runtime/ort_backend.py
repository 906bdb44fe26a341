"""ONNX Runtime as a Backend; CUDA and TensorRT execution providers are used when present."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from taokit.errors import ModelError, UsageError, first_line
from taokit.runtime.base import ModelIO, cpu_threads
from taokit.runtime.onnx_safety import check_external_data

log = logging.getLogger(__name__)


def _dim(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class OrtBackend:
    name = "onnxruntime"

    def __init__(self, path: Path, device: str | None = None, threads: int = 0) -> None:
        import onnxruntime as ort

        available = ort.get_available_providers()
        if device and device.startswith("cuda"):
            if "CUDAExecutionProvider" not in available:
                raise UsageError(f"--device {device}: this ONNX Runtime has no CUDA provider "
                                 "(pip install onnxruntime-gpu on a GPU machine)")
            providers = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in available]
        elif device == "cpu":
            providers = []
        else:
            providers = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in available]
        providers.append("CPUExecutionProvider")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads() or (os.cpu_count() or 1)
        options.log_severity_level = 3
        check_external_data(Path(path))
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as err:  # noqa: BLE001 - ORT raises several unrelated types for bad files
            raise ModelError(f"{path}: ONNX Runtime cannot load this model ({first_line(err)})") \
                from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(f"{path}: expected one image input, found {len(inputs)}: "
                             f"{', '.join(i.name for i in inputs)}")
        shape = list(inputs[0].shape) + [None] * 4
        meta = self.session.get_modelmeta().custom_metadata_map
        outputs = self.session.get_outputs()
        self.io = ModelIO(inputs[0].name, tuple(o.name for o in outputs),
                          (_dim(shape[1]), _dim(shape[2]), _dim(shape[3])), _dim(shape[0]), dict(meta),
                          tuple(_dim(o.shape[1]) if len(o.shape) > 1 else None for o in outputs))
        self.providers = self.session.get_providers()
        self._dtype = np.float16 if inputs[0].type == "tensor(float16)" else np.float32

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        feed = {self.io.input_name: np.ascontiguousarray(batch, dtype=self._dtype)}
        return [np.asarray(o, dtype=np.float32) for o in self.session.run(None, feed)]

    def close(self) -> None:
        del self.session
