"""The inference loop every task shares: frames decoded ahead, handed over in batches, skips counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from taokit.data.image_sources import Frame, InputSet, batched, iter_frames, prefetch
from taokit.errors import DataError

log = logging.getLogger("taokit")


@dataclass
class FrameRun:
    images: int = 0
    elapsed_s: float = 0.0
    skipped: list[str] = field(default_factory=list)

    @property
    def images_per_s(self) -> float:
        return self.images / max(self.elapsed_s, 1e-9)

    def summary(self, backend: str, found: str = "", note: str = "") -> str:
        """The line every inference prints: "N image(s)[, found] in X s: R images/s (backend[, note])"."""
        return (f"{self.images} image(s){', ' + found if found else ''} in {self.elapsed_s:.1f} s: "
                f"{self.images_per_s:.1f} images/s ({backend}{', ' + note if note else ''})")


def run_batches(inputs: InputSet, batch_size: int, handle: Callable[[list[Frame]], None], *, strict: bool,
                described_as: str) -> FrameRun:
    """Call `handle` on every batch of frames; unreadable images are skipped with a warning (an error under
    --strict), and no readable image at all is a one-line DataError naming `described_as` (the -i value)."""
    run = FrameRun()
    frames = prefetch(iter_frames(inputs, skip_unreadable=not strict, on_skip=lambda e: run.skipped.append(str(e))))
    start = time.perf_counter()
    for batch in batched(frames, batch_size):
        handle(batch)
        run.images += len(batch)
    run.elapsed_s = time.perf_counter() - start
    for reason in run.skipped:
        log.warning("skipped: %s", reason)
    if run.images == 0:
        raise DataError(f"-i {described_as}: no image could be read")
    return run
