"""dataset_convert (not built yet)."""

from __future__ import annotations

from typing import Any

from taokit.tasks.registry import get_task


def run(task_name: str, *args: Any, **kwargs: Any) -> Any:
    get_task(task_name).require("dataset_convert")
