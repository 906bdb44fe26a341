"""A task's model on any runtime: open the backend, check its outputs, learn what the model is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np
from torch import nn

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO, infer_any_batch, output_index
from taokit.runtime.select import open_backend
from taokit.tasks.common.arch import ArchRecord

TorchLoader = Callable[[Path], tuple[nn.Module, ModelIO]]


def model_io(arch: ArchRecord, input_name: str, output_names: tuple[str, ...], input_hw: tuple[int, int]
             ) -> ModelIO:
    """The ModelIO of a .pth model: the same names, shape and metadata as its exported ONNX."""
    return ModelIO(input_name, output_names, (3, *input_hw), None, arch.metadata())


def open_checked_backend(path: Path, load_torch: TorchLoader, expected: tuple[str, ...], what: str, *,
                         backend: str | None, device: str | None, any_single_output: bool = False) -> Backend:
    """Open a .pth/.onnx/.engine model and check that it has the task's outputs.

    `any_single_output` accepts a foreign model with one output under another name (classifiers).
    """
    opened = open_backend(path, load_torch=load_torch, backend=backend, device=device)
    names = opened.io.output_names
    missing = [n for n in expected if output_index(opened.io, n) is None]
    if missing and not (any_single_output and len(names) == 1):
        opened.close()
        raise ModelError(f"{path}: not a {what} model: outputs are {', '.join(names)}; expected {', '.join(expected)}")
    return opened


class Runner:
    """A backend plus the indices of the outputs a task reads; subclasses add what the outputs mean."""

    def __init__(self, backend: Backend, outputs: tuple[str, ...]) -> None:
        self.backend = backend
        self._indices = [output_index(backend.io, n) or 0 for n in outputs]

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """The task's outputs, in the order given at construction, for a float32 NCHW batch of any size."""
        outputs = infer_any_batch(self.backend, batch)
        return [outputs[i] for i in self._indices]

    def run_all(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every output of the model, in the model's order."""
        return infer_any_batch(self.backend, batch)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
