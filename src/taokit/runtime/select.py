"""Pick the backend for a model file by its suffix (`--backend` overrides): .pth, .onnx, .engine/.plan/.trt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from taokit.engine.model_files import check_model_file
from taokit.errors import ModelError, UsageError
from taokit.runtime.base import Backend, ModelIO
from taokit.runtime.devices import pick_device
from taokit.runtime.torch_backend import TorchBackend

SUFFIXES = {".pth": "torch", ".pt": "torch", ".onnx": "onnxruntime", ".engine": "tensorrt", ".plan": "tensorrt",
            ".trt": "tensorrt"}
BACKENDS = ("torch", "onnxruntime", "openvino", "tensorrt", "auto")


def backend_for(path: Path, requested: str | None = None, device: str | None = None) -> str:
    if requested == "auto":
        return auto_backend(path, device)
    if requested:
        if requested not in BACKENDS:
            raise UsageError(f"--backend {requested}: choose one of {', '.join(BACKENDS)}")
        return requested
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ModelError(f"{path}: unknown model file type '{path.suffix}'; expected .pth, .onnx or .engine "
                         "(or pass --backend)")
    return kind


def open_backend(path: Path, *, load_torch: Callable[[Path], tuple[torch.nn.Module, ModelIO]],
                 backend: str | None = None, device: str | None = None) -> Backend:
    """Open `path` with the backend its suffix (or `backend`) names.

    `load_torch` is the task's loader for its own .pth files (model and its IO description).
    """
    check_model_file(path)
    kind = backend_for(path, backend, device)
    if kind == "torch":
        model, io = load_torch(path)
        return TorchBackend(model, io, pick_device(device))
    if kind == "onnxruntime":
        from taokit.runtime.ort_backend import OrtBackend

        return OrtBackend(path, device)
    if kind == "openvino":
        if path.suffix.lower() != ".onnx":
            raise UsageError(f"--backend openvino runs .onnx files; {path} is not one")
        from taokit.runtime.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(path, device)
    from taokit.runtime.tensorrt_backend import TensorRTBackend

    return TensorRTBackend(path, device)


def auto_backend(path: Path, device: str | None) -> str:
    """`--backend auto`: the file's own runtime, except an .onnx on the CPU, which goes to OpenVINO when it is
    installed and the CPU has AVX-512 (measured there: INT8 1.07x ONNX Runtime, FP32 level; on an AVX2-only CPU
    no gain: docs/performance.md). A rule, not a probe: the same machine always picks the same runtime."""
    kind = backend_for(path)
    on_gpu = (device or "").startswith("cuda") or (device is None and torch.cuda.is_available())
    if kind != "onnxruntime" or on_gpu:
        return kind
    from taokit.runtime.inventory import cpu_isa, openvino_info

    return "openvino" if openvino_info().get("version") and "avx512f" in cpu_isa() else "onnxruntime"
