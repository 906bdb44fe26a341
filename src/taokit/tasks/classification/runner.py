"""Open a classifier on any backend and learn its classes, input size and preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO
from taokit.tasks.classification.model import INPUT_NAME, OUTPUT_NAME, ClassifierArch, SoftmaxOutput
from taokit.tasks.classification.network import load_model
from taokit.tasks.classification.transforms import Preprocess
from taokit.tasks.common.runner import Runner, model_io, open_checked_backend


@dataclass(frozen=True)
class ModelInfo:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    preprocess: Preprocess
    interpolation: str = "bilinear"
    center_crop: bool = False


def load_torch(path: Path) -> tuple[SoftmaxOutput, ModelIO]:
    """A .pth classifier as every runtime sees it: probabilities under TAO's output name."""
    model, _ = load_model(path)
    return SoftmaxOutput(model), model_io(model.arch, INPUT_NAME, (OUTPUT_NAME,), model.arch.input_hw)


class ClassifierRunner(Runner):
    """A backend plus what its output means; `predict` returns (N, classes) probabilities."""

    def __init__(self, backend: Backend, info: ModelInfo) -> None:
        super().__init__(backend, (OUTPUT_NAME,))
        self.info = info

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.run(batch)[0]


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                fallback: ModelInfo | None = None) -> ClassifierRunner:
    """Open a .pth/.onnx/.engine classifier; `fallback` (from the spec) describes models without metadata."""
    opened = open_checked_backend(path, load_torch, (OUTPUT_NAME,), "classification", backend=backend,
                                  device=device, any_single_output=True)
    return ClassifierRunner(opened, model_info(path, opened.io, fallback))


def model_info(path: Path, io: ModelIO, fallback: ModelInfo | None) -> ModelInfo:
    arch = ClassifierArch.from_metadata(io.metadata)
    if arch is not None:
        return ModelInfo(arch.class_names, arch.input_hw, Preprocess.from_dict(arch.preprocess),
                         arch.interpolation, arch.center_crop)
    if fallback is None or not fallback.class_names:
        raise ModelError(f"{path}: the model does not name its classes or preprocessing; pass the training "
                         "spec with -e and its classmap.json with -cm")
    _, h, w = io.input_chw
    return ModelInfo(fallback.class_names, (h, w) if h and w else fallback.input_hw, fallback.preprocess,
                     fallback.interpolation, fallback.center_crop)
