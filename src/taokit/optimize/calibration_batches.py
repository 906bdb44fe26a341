"""Calibration and parity images: preprocessed exactly as in training, served in fixed-size batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from taokit.data.image_files import list_images
from taokit.errors import DataError, UsageError

log = logging.getLogger("taokit.export")


def calibration_images(image_dir: Path | None, default: list[Path], count: int) -> list[Path]:
    """`count` images from `--cal_image_dir`, else from the training set; an error when there are none."""
    if image_dir is not None:
        if not image_dir.is_dir():
            raise DataError(f"--cal_image_dir {image_dir}: not a directory")
        images = list_images(image_dir)
        if not images:
            raise DataError(f"--cal_image_dir {image_dir}: no images found; INT8 calibration needs real images")
    else:
        images = default
        if not images:
            raise UsageError("INT8 calibration needs images: pass -e with the training spec (its training "
                             "images are used) or --cal_image_dir")
    if len(images) < count:
        log.warning("calibration asked for %d images but %d are available; using all of them", count, len(images))
        return list(images)
    step = len(images) / count  # spread over the set rather than the first files only
    return [images[int(i * step)] for i in range(count)]


class ImageBatches:
    """Re-iterable batches of preprocessed images (each pass decodes again, keeping memory flat).

    Every batch has the same size: TensorRT's calibrator serves one fixed batch shape, and ONNX Runtime's
    entropy calibrator fails on a shorter last batch. Images beyond the last full batch are left out; with
    fewer images than one batch, the batch is all of them.
    """

    def __init__(self, paths: list[Path], preprocess: Callable[[Path], np.ndarray], batch_size: int) -> None:
        self.batch_size = max(1, min(batch_size, len(paths)))
        usable = len(paths) - len(paths) % self.batch_size
        if usable < len(paths):
            log.info("calibrating on %d of %d images: %d full batches of %d", usable, len(paths),
                     usable // self.batch_size, self.batch_size)
        self.paths, self.preprocess = paths[:usable], preprocess

    def __iter__(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.paths), self.batch_size):
            chunk = self.paths[start : start + self.batch_size]
            yield np.stack([self.preprocess(p) for p in chunk]).astype(np.float32)

    def __len__(self) -> int:
        return -(-len(self.paths) // self.batch_size)


def ort_reader(batches: ImageBatches, input_name: str):  # noqa: ANN201 - an ORT CalibrationDataReader
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._it, None)
            return None if batch is None else {input_name: batch}

        def rewind(self) -> None:
            self._it = iter(batches)

    return _Reader()
