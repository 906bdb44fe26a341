"""Latency and throughput of a Backend on a fixed batch: warm-up runs, then timed runs."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from taokit.runtime.base import Backend


@dataclass(frozen=True)
class Timing:
    batch: int
    runs: int
    median_ms: float
    p90_ms: float

    @property
    def images_per_s(self) -> float:
        return self.batch / (self.median_ms / 1000.0)


def time_backend(backend: Backend, batch: np.ndarray, runs: int = 20, warmup: int = 3) -> Timing:
    for _ in range(warmup):
        backend.infer(batch)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.infer(batch)
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return Timing(batch.shape[0], runs, statistics.median(samples), samples[min(len(samples) - 1,
                                                                                   int(0.9 * len(samples)))])


def precision_of(path: str) -> str:
    """fp32, or int8 when an ONNX file holds QuantizeLinear nodes (engines report what they were built as)."""
    if path.endswith(".onnx"):
        import onnx

        model = onnx.load(path, load_external_data=False)
        if any(n.op_type in ("QuantizeLinear", "QLinearConv") for n in model.graph.node):
            return "int8"
        if any(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16 for i in model.graph.input):
            return "fp16"
    return "fp32" if not path.endswith((".engine", ".plan", ".trt")) else "engine"
