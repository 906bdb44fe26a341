"""export (not built yet)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 17
    static_batch_size: int = -1
    data_type: str = "fp32"
    gen_ds_config: bool = False
    triton_repo: Path | None = None
    cal_image_dir: Path | None = None
    cal_cache_file: Path | None = None
    cal_batches: int = 10
    cal_batch_size: int = 8
    trt_version: str | None = None
    engine_file: Path | None = None


def run(task_name: str, *args: Any, **kwargs: Any) -> Any:
    get_task(task_name).require("export")
