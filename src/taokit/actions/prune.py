"""prune (not built yet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class PruneOptions:
    threshold: float = 0.1
    equalization: str = "union"
    granularity: int = 8
    min_filters: int = 16
    normalizer: str = "max"
    excluded_layers: tuple[str, ...] = ()


def run(task_name: str, *args: Any, **kwargs: Any) -> Any:
    get_task(task_name).require("prune")
