"""Calibration and parity inputs: image files turned into network inputs exactly as training does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from taokit.data.image_io import read_rgb


class FilePreprocessor:
    """Image file -> network input (CHW float32): decode as RGB, then the task's `to_input`."""

    def __init__(self, to_input: Callable[[np.ndarray], np.ndarray]) -> None:
        self.to_input = to_input

    def __call__(self, path: Path) -> np.ndarray:
        return np.ascontiguousarray(self.to_input(read_rgb(path)), dtype=np.float32)
