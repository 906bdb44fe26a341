"""Open a DetectNet_v2 model on any backend and learn its classes, input size and bbox encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO, infer_any_batch
from taokit.runtime.select import open_backend
from taokit.tasks.detectnet.model import INPUT_NAME, OUTPUT_NAMES, DetectNetArch
from taokit.tasks.detectnet.network import load_model

ARCH_METADATA_KEY = "taokit.arch"  # the DetectNetArch JSON, embedded in exported ONNX files


@dataclass(frozen=True)
class ModelInfo:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    scale: float = 35.0
    offset: float = 0.5


def torch_model_io(arch: DetectNetArch) -> ModelIO:
    h, w = arch.input_hw
    return ModelIO(INPUT_NAME, OUTPUT_NAMES, (3, h, w), None, {ARCH_METADATA_KEY: json.dumps(arch.to_dict())})


def load_torch(path: Path):  # noqa: ANN202 - matches runtime.select's loader signature
    model, _ = load_model(path)
    return model, torch_model_io(model.arch)


class DetectNetRunner:
    """A backend plus what its outputs mean; `predict` returns (coverage, bbox) for a float NCHW batch."""

    def __init__(self, backend: Backend, info: ModelInfo) -> None:
        self.backend, self.info = backend, info
        names = backend.io.output_names
        self._cov, self._bbox = names.index(OUTPUT_NAMES[0]), names.index(OUTPUT_NAMES[1])

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outputs = infer_any_batch(self.backend, batch)
        return outputs[self._cov], outputs[self._bbox]


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                class_names: list[str] | None = None, input_hw: tuple[int, int] | None = None) -> DetectNetRunner:
    """Open a .pth/.onnx/.engine DetectNet model; specs may supply what a foreign model does not say."""
    runner_backend = open_backend(path, load_torch=load_torch, backend=backend, device=device)
    io = runner_backend.io
    missing = [n for n in OUTPUT_NAMES if n not in io.output_names]
    if missing:
        raise ModelError(f"{path}: not a DetectNet_v2 model: outputs are {', '.join(io.output_names)}; "
                         f"expected {', '.join(OUTPUT_NAMES)}")
    info = _model_info(path, io, class_names, input_hw)
    return DetectNetRunner(runner_backend, info)


def _model_info(path: Path, io: ModelIO, class_names: list[str] | None,
                input_hw: tuple[int, int] | None) -> ModelInfo:
    if ARCH_METADATA_KEY in io.metadata:
        arch = DetectNetArch.from_dict(json.loads(io.metadata[ARCH_METADATA_KEY]))
        if class_names and list(arch.class_names) != list(class_names):
            raise ModelError(f"{path}: the model's classes {list(arch.class_names)} differ from the spec's "
                             f"{list(class_names)} (same names in the same order are needed)")
        return ModelInfo(arch.class_names, arch.input_hw, arch.bbox_scale, arch.bbox_offset)
    c, h, w = io.input_chw
    hw = (h, w) if h and w else input_hw
    if hw is None:
        raise ModelError(f"{path}: the model has a dynamic input size; give image_height/image_width in the spec")
    if not class_names:
        raise ModelError(f"{path}: the model does not name its classes; give inferencer_config.target_classes "
                         "in network order")
    return ModelInfo(tuple(class_names), (int(hw[0]), int(hw[1])))
