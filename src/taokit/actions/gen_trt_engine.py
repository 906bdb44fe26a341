"""gen_trt_engine (not built yet)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class EngineOptions:
    data_type: str = "fp32"
    engine_file: Path | None = None
    cal_cache_file: Path | None = None
    cal_image_dir: Path | None = None
    cal_batches: int = 10
    cal_batch_size: int = 8
    min_batch: int = 1
    opt_batch: int = 1
    max_batch: int = 1
    workspace_gib: float = 2.0


def run(task_name: str, *args: Any, **kwargs: Any) -> Any:
    get_task(task_name).require("gen_trt_engine")
