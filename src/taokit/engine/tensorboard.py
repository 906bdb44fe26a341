"""TensorBoard event files under <results_dir>/events (a no-op writer on non-main ranks)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EventWriter:
    def __init__(self, directory: Path | None) -> None:
        self._writer: Any = None
        if directory is None:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # pragma: no cover - tensorboard is a declared dependency
            log.warning("tensorboard is not installed; no event files are written")
            return
        self._writer = SummaryWriter(log_dir=str(directory))

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(key, value, step)

    def images(self, tag: str, images: Any, step: int) -> None:
        """`images` is an (N,3,H,W) float tensor in [0,1]."""
        if self._writer is not None:
            self._writer.add_images(tag, images, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
