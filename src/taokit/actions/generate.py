"""generate: write a task's small synthetic demo dataset into a new (or empty) directory."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import ResultsDirError
from taokit.results import Result, Table
from taokit.tasks.registry import get_task


def run(task_name: str, output_dir: Path, *, num_images: int | None = None, seed: int = 0,
        force: bool = False) -> Result:
    task = get_task(task_name)
    task.require("generate")
    if output_dir.exists() and any(output_dir.iterdir()) and not force:
        raise ResultsDirError(f"{output_dir} is not empty; choose a new directory or pass --force")
    summary = task.generate_dataset(output_dir, num_images=num_images, seed=seed)
    rows = [[name, count] for name, count in summary.counts.items()]
    return Result(lines=summary.lines, tables=[Table(f"{task_name} demo dataset", ["class", "objects"], rows)])
