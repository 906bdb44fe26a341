"""Open a DetectNet_v2 model on any backend and learn its classes, input size and bbox encoding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO
from taokit.tasks.common.runner import Runner, model_io, open_checked_backend
from taokit.tasks.detectnet.model import INPUT_NAME, OUTPUT_NAMES, DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import load_model


@dataclass(frozen=True)
class ModelInfo:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    scale: float = 35.0
    offset: float = 0.5


def load_torch(path: Path) -> tuple[DetectNetV2, ModelIO]:
    """A .pth model as the .pth backend runs it: same tensor names and metadata as the exported ONNX."""
    model, _ = load_model(path)
    return model, model_io(model.arch, INPUT_NAME, OUTPUT_NAMES, model.arch.input_hw)


class DetectNetRunner(Runner):
    """A backend plus what its outputs mean; `predict` returns (coverage, bbox) for a float NCHW batch."""

    def __init__(self, backend: Backend, info: ModelInfo) -> None:
        super().__init__(backend, OUTPUT_NAMES)
        self.info = info

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cov, bbox = self.run(batch)
        return cov, bbox


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                class_names: list[str] | None = None, input_hw: tuple[int, int] | None = None) -> DetectNetRunner:
    """Open a .pth/.onnx/.engine DetectNet model; specs may supply what a foreign model does not say."""
    opened = open_checked_backend(path, load_torch, OUTPUT_NAMES, "DetectNet_v2", backend=backend, device=device)
    return DetectNetRunner(opened, _model_info(path, opened.io, class_names, input_hw))


def _model_info(path: Path, io: ModelIO, class_names: list[str] | None,
                input_hw: tuple[int, int] | None) -> ModelInfo:
    arch = DetectNetArch.from_metadata(io.metadata)
    if arch is not None:
        if class_names and list(arch.class_names) != list(class_names):
            raise ModelError(f"{path}: the model's classes {list(arch.class_names)} differ from the spec's "
                             f"{list(class_names)} (same names in the same order are needed)")
        return ModelInfo(arch.class_names, arch.input_hw, arch.bbox_scale, arch.bbox_offset)
    _, h, w = io.input_chw
    hw = (h, w) if h and w else input_hw
    if hw is None:
        raise ModelError(f"{path}: the model has a dynamic input size; give image_height/image_width in the spec")
    if not class_names:
        raise ModelError(f"{path}: the model does not name its classes; give inferencer_config.target_classes "
                         "in network order")
    return ModelInfo(tuple(class_names), (int(hw[0]), int(hw[1])))
