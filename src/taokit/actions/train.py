"""train: fit a task's model from its experiment spec (in-process, or under torchrun for several GPUs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class NodeOptions:
    num_nodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500


def run(task_name: str, spec_path: Path, session: Any, *, model_name: str = "model",
        enable_determinism: bool = False, strict: bool = False, nodes: NodeOptions = NodeOptions()) -> None:
    task = get_task(task_name)
    task.require("train")
