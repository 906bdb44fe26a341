"""Open a LaneNet model on any backend: the lane probability and embedding outputs, and the input size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from taokit.errors import ModelError
from taokit.runtime.base import Backend, ModelIO
from taokit.tasks.common.runner import Runner, model_io, open_checked_backend
from taokit.tasks.lanenet.model import INPUT_NAME, OUTPUT_NAMES, LaneNetArch, LaneNetOutputs
from taokit.tasks.lanenet.network import load_model


def load_torch(path: Path) -> tuple[nn.Module, ModelIO]:
    model, _ = load_model(path)
    return LaneNetOutputs(model), model_io(model.arch, INPUT_NAME, OUTPUT_NAMES, model.arch.input_hw)


class LaneNetRunner(Runner):
    """`predict` returns (lane probability N x 1 x H x W, embedding N x D x H x W) for a float NCHW batch."""

    def __init__(self, backend: Backend, input_hw: tuple[int, int]) -> None:
        super().__init__(backend, OUTPUT_NAMES)
        self.input_hw = input_hw

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prob, embedding = self.run(batch)
        return prob, embedding


def open_runner(path: Path, *, backend: str | None = None, device: str | None = None,
                input_hw: tuple[int, int] | None = None) -> LaneNetRunner:
    opened = open_checked_backend(path, load_torch, OUTPUT_NAMES, "LaneNet", backend=backend, device=device)
    arch = LaneNetArch.from_metadata(opened.io.metadata)
    _, h, w = opened.io.input_chw
    hw = tuple(arch.input_hw) if arch is not None else ((h, w) if h and w else input_hw)
    if hw is None:
        raise ModelError(f"{path}: the model has a dynamic input size; give model_config.input_image_width/height")
    return LaneNetRunner(opened, (int(hw[0]), int(hw[1])))
