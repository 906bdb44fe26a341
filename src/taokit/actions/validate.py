"""validate: read a task's dataset the way training will and report what it would skip, before a long run."""

from __future__ import annotations

from pathlib import Path

from taokit.requests import Session
from taokit.results import Result
from taokit.tasks.registry import get_task


def run(task_name: str, spec_path: Path, session: Session) -> Result:
    task = get_task(task_name)
    task.require("validate")
    spec = task.load_action_spec("validate", spec_path, session.overrides)
    return task.validate_dataset(spec, session.results_dir)
