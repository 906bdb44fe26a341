"""dataset_convert: a labelled dataset (KITTI, COCO, YOLO) into shards split into folds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taokit.engine.status import FAILURE, STARTED, SUCCESS, StatusFile
from taokit.results import Result
from taokit.tasks.registry import get_task


def run(task_name: str, spec_path: Path, output_prefix: str, session: Any, *, strict: bool = False) -> Result:
    task = get_task(task_name)
    task.require("dataset_convert")
    spec = task.load_action_spec("dataset_convert", spec_path, session.overrides)
    status = StatusFile(session.results_dir)
    status.write(STARTED, "Starting dataset conversion")
    try:
        result = task.convert_dataset(spec, Path(output_prefix), strict=strict)
    except BaseException as err:
        status.write(FAILURE, str(err).splitlines()[0] if str(err) else type(err).__name__)
        raise
    status.write(SUCCESS, "Dataset conversion finished", kpi=result.data)
    return result
