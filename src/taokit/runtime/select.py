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
BACKENDS = ("torch", "onnxruntime", "tensorrt")


def backend_for(path: Path, requested: str | None = None) -> str:
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
    kind = backend_for(path, backend)
    if kind == "torch":
        model, io = load_torch(path)
        return TorchBackend(model, io, pick_device(device))
    if kind == "onnxruntime":
        from taokit.runtime.ort_backend import OrtBackend

        return OrtBackend(path, device)
    from taokit.runtime.tensorrt_backend import TensorRTBackend

    return TensorRTBackend(path, device)
