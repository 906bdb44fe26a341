"""dataset_convert: a labelled dataset (KITTI, COCO, YOLO) into shards split into folds."""

from __future__ import annotations

from pathlib import Path

from taokit.engine.status import status_job
from taokit.requests import Session
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


def run(task_name: str, spec_path: Path, output_prefix: str, session: Session, *, strict: bool = False) -> Result:
    task = get_task(task_name)
    task.require("dataset_convert")
    spec = task_specs.load(task, "dataset_convert", spec_path, session.overrides)
    with status_job(session.results_dir, "Starting dataset conversion", "Dataset conversion finished") as outcome:
        result = task.convert_dataset(spec, Path(output_prefix), strict=strict)
        outcome.kpi = result.data
    return result
