"""validate: read a task's dataset the way training will and report what it would skip, before a long run."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import UsageError
from taokit.requests import Session
from taokit.results import Result
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


def run(task_name: str, spec_path: Path | None, convert_spec_path: Path | None, session: Session) -> Result:
    """`spec_path` is a training spec (-e); `convert_spec_path` a dataset_convert spec (-d), one of the two."""
    task = get_task(task_name)
    task.require("validate")
    if (spec_path is None) == (convert_spec_path is None):
        raise UsageError("give the training spec (-e) or the dataset_convert spec (-d), one of the two")
    if convert_spec_path is not None:
        if "dataset_convert" not in task.implemented:
            raise UsageError(f"{task.name} has no dataset_convert spec; validate with its training spec (-e)")
        spec = task_specs.load(task, "dataset_convert", convert_spec_path, session.overrides)
    else:
        spec = task_specs.load(task, "validate", spec_path, session.overrides)
    return task.validate_dataset(spec, session.results_dir)
