"""Open a classifier on any backend and learn its classes, input size and preprocessing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO, infer_any_batch
from taokit.runtime.select import open_backend
from taokit.tasks.classification.model import INPUT_NAME, OUTPUT_NAME, ClassifierArch, SoftmaxOutput
from taokit.tasks.classification.network import load_model
from taokit.tasks.classification.transforms import Preprocess

ARCH_METADATA_KEY = "taokit.arch"  # the ClassifierArch JSON, embedded in exported ONNX files


@dataclass(frozen=True)
class ModelInfo:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    preprocess: Preprocess
    interpolation: str = "bilinear"
    center_crop: bool = False


def torch_model_io(arch: ClassifierArch) -> ModelIO:
    return ModelIO(INPUT_NAME, (OUTPUT_NAME,), (3, *arch.input_hw), None,
                   {ARCH_METADATA_KEY: json.dumps(arch.to_dict())})


def load_torch(path: Path):  # noqa: ANN202 - matches runtime.select's loader signature
    model, _ = load_model(path)
    return SoftmaxOutput(model), torch_model_io(model.arch)


class ClassifierRunner:
    """A backend plus what its output means; `predict` returns (N, classes) probabilities."""

    def __init__(self, backend: Backend, info: ModelInfo) -> None:
        self.backend, self.info = backend, info
        self._index = backend.io.output_names.index(OUTPUT_NAME) if OUTPUT_NAME in backend.io.output_names else 0

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return infer_any_batch(self.backend, batch)[self._index]


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                fallback: ModelInfo | None = None) -> ClassifierRunner:
    """Open a .pth/.onnx/.engine classifier; `fallback` (from the spec) describes models without metadata."""
    runner_backend = open_backend(path, load_torch=load_torch, backend=backend, device=device)
    io = runner_backend.io
    if len(io.output_names) != 1 and OUTPUT_NAME not in io.output_names:
        raise ModelError(f"{path}: not a classifier: outputs are {', '.join(io.output_names)}; expected "
                         f"{OUTPUT_NAME}")
    return ClassifierRunner(runner_backend, model_info(path, io, fallback))


def model_info(path: Path, io: ModelIO, fallback: ModelInfo | None) -> ModelInfo:
    if ARCH_METADATA_KEY in io.metadata:
        arch = ClassifierArch.from_dict(json.loads(io.metadata[ARCH_METADATA_KEY]))
        return ModelInfo(arch.class_names, arch.input_hw, Preprocess.from_dict(arch.preprocess),
                         arch.interpolation, arch.center_crop)
    if fallback is None or not fallback.class_names:
        raise ModelError(f"{path}: the model does not name its classes or preprocessing; pass the training "
                         "spec with -e and its classmap.json with -cm")
    _, h, w = io.input_chw
    return ModelInfo(fallback.class_names, (h, w) if h and w else fallback.input_hw, fallback.preprocess,
                     fallback.interpolation, fallback.center_crop)
