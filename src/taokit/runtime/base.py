"""The Backend protocol: one way to run a model, whatever executes it (torch, ONNX Runtime, TensorRT)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ModelIO:
    """Names and shapes a model exposes. `input_chw` entries are None where the model is dynamic."""

    input_name: str
    output_names: tuple[str, ...]
    input_chw: tuple[int | None, int | None, int | None]
    batch: int | None = None  # a static batch size, or None when dynamic
    metadata: dict[str, str] = field(default_factory=dict)
    output_channels: tuple[int | None, ...] = ()  # dim 1 of each output where the model states it


def tensor_name_key(name: str) -> str:
    """A tensor name without TensorFlow's output index: NVIDIA's keras2onnx files say `input_1:0`."""
    return name[:-2] if name.endswith(":0") else name


def output_index(io: ModelIO, name: str) -> int | None:
    """Where output `name` sits in `io.output_names`, with or without a `:0` suffix on either side."""
    keys = [tensor_name_key(n) for n in io.output_names]
    key = tensor_name_key(name)
    return keys.index(key) if key in keys else None


class Backend(Protocol):
    """Runs a float32 NCHW batch and returns the outputs in `io.output_names` order."""

    name: str
    io: ModelIO

    def infer(self, batch: np.ndarray) -> list[np.ndarray]: ...

    def close(self) -> None: ...


def infer_any_batch(backend: Backend, batch: np.ndarray) -> list[np.ndarray]:
    """Run a batch of any size, even on a model exported with a static batch (padding the last chunk)."""
    static = backend.io.batch
    n = batch.shape[0]
    if static is None or static == n:
        return backend.infer(batch)
    chunks: list[list[np.ndarray]] = []
    for start in range(0, n, static):
        part = batch[start : start + static]
        if part.shape[0] < static:
            pad = np.zeros((static - part.shape[0], *part.shape[1:]), dtype=part.dtype)
            part = np.concatenate([part, pad])
        chunks.append(backend.infer(part))
    return [np.concatenate([c[i] for c in chunks])[:n] for i in range(len(chunks[0]))]


def cpu_threads() -> int:
    """The CPU threads a runtime may use: `--threads` (which sets OMP_NUM_THREADS), else 0 (the runtime's own
    choice: all cores). ONNX Runtime and OpenVINO read it alike, so a comparison between them is fair."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else 0
