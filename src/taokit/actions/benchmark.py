"""benchmark: latency and throughput of one or more model files (any backend, any precision)."""

from __future__ import annotations

import logging
import os
from contextlib import closing
from pathlib import Path

import numpy as np

from taokit.engine.model_files import resolve_model_file
from taokit.errors import ModelError
from taokit.requests import Session
from taokit.results import Result, Table
from taokit.runtime.devices import requested_device
from taokit.tasks.registry import get_task

log = logging.getLogger("taokit.benchmark")


def run(task_name: str, models: list[Path], session: Session, *, batch_size: int = 1, runs: int = 20, warmup: int = 3,
        backends: list[str] | None = None, device: str | None = None, threads: int = 0) -> Result:
    """Each model on each runtime asked for (or the one its suffix names), timed in this one process."""
    from taokit.runtime.timing import precision_of, time_backend

    task = get_task(task_name)
    task.require("benchmark")
    if threads:
        import torch

        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
    rows, data = [], {}
    runtimes: list[str | None] = list(backends or []) or [None]
    for path in models:
        path = resolve_model_file(path)
        for backend in runtimes:
            with closing(task.open_backend(path, backend=backend,
                                           device=requested_device(device, session.gpus, session.gpu_index))) as runner:
                c, h, w = runner.io.input_chw
                if not (c and h and w):
                    raise ModelError(f"{path}: the model has a dynamic input size; benchmark needs a fixed one")
                batch = np.random.default_rng(0).random((batch_size, c, h, w), dtype=np.float32)
                timing = time_backend(runner, batch, runs, warmup)
            precision = precision_of(str(path))
            rows.append([str(path), runner.name, precision, batch_size, timing.median_ms, timing.p90_ms,
                         timing.images_per_s])
            key = str(path) if len(runtimes) == 1 else f"{path} ({runner.name})"
            data[key] = {"backend": runner.name, "precision": precision, "median_ms": timing.median_ms,
                         "images_per_s": timing.images_per_s}
    table = Table(f"{task_name} benchmark ({runs} runs after {warmup} warm-up, input {c}x{h}x{w})",
                  ["model", "backend", "precision", "batch", "median ms", "p90 ms", "images/s"], rows)
    return Result(tables=[table], data=data)
