"""TensorRT 10's INT8 entropy calibrator, fed with torch CUDA tensors (no pycuda) and a text cache."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from taokit.engine.files import atomic_write_bytes
from taokit.errors import ExportError
from taokit.optimize.calibration_cache import cache_bytes_for

ToDevice = Callable[[np.ndarray], Any]  # returns an object with data_ptr() that stays valid while referenced
Batches = Callable[[], Iterator[np.ndarray]]


def cuda_tensor(batch: np.ndarray) -> Any:
    """Upload a batch as a contiguous float32 torch CUDA tensor, the memory TensorRT reads from."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).cuda()


def exact_batches(stream: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup batches of any size into batches of exactly `size` images.

    TensorRT reads `get_batch_size()` images at every call; the last short batch is filled by
    repeating its own images, which keeps the activation statistics close to the real data.
    """
    pending: list[np.ndarray] = []
    count = 0
    for batch in stream:
        pending.append(np.asarray(batch, dtype=np.float32))
        count += len(batch)
        while count >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            pending, count = [joined[size:]], count - size
    if count:
        joined = np.concatenate(pending)
        yield joined[np.arange(size) % count]


def make_entropy_calibrator(trt: ModuleType, batches: Batches | None, batch_size: int,
                            input_chw: tuple[int, int, int], cache_path: Path | None, trt_version: str,
                            to_device: ToDevice | None = None, tensor_names: frozenset[str] | None = None) -> Any:
    """An `IInt8EntropyCalibrator2` over `batches`, reading and writing the cache at `cache_path`.

    The class is made here because `trt` is imported lazily (or is a test fake). An existing cache is
    handed to TensorRT first and, when it is accepted, no batch is read. Errors raised while reading
    batches cannot cross TensorRT's C++ boundary, so they are kept in `.error` for the caller.
    """
    upload = to_device or cuda_tensor

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.batches_used = 0
            self.error: Exception | None = None
            self._stream: Iterator[np.ndarray] | None = None
            self._current: Any = None  # keeps the device memory alive while TensorRT reads it

        def get_batch_size(self) -> int:
            return batch_size

        def get_batch(self, names: list[str], *_: Any) -> list[int] | None:
            if batches is None or self.error is not None:
                return None
            try:
                if self._stream is None:
                    self._stream = exact_batches(batches(), batch_size)
                batch = next(self._stream, None)
                if batch is None:
                    self._current = None
                    return None
                _check_shape(batch, input_chw)
                self._current = upload(batch)
            except Exception as err:  # noqa: BLE001 - kept and re-raised after the build returns
                self.error = err
                return None
            self.batches_used += 1
            return [int(self._current.data_ptr())]

        def read_calibration_cache(self, *_: Any) -> bytes | None:
            if cache_path is None or not cache_path.is_file():
                return None
            try:
                return cache_bytes_for(cache_path, trt_version, tensor_names=tensor_names)
            except ExportError as err:
                self.error = err
                return None

        def write_calibration_cache(self, cache: Any, *_: Any) -> None:
            if cache_path is not None:
                atomic_write_bytes(cache_path, memoryview(cache).tobytes())

    return EntropyCalibrator()


def _check_shape(batch: np.ndarray, input_chw: tuple[int, int, int]) -> None:
    if batch.ndim != 4 or tuple(batch.shape[1:]) != tuple(input_chw):
        raise ExportError(f"calibration batch has shape {tuple(batch.shape)}; the engine input needs "
                          f"(N, {', '.join(map(str, input_chw))})")
