"""The task registry: one name per task, imported only when a command needs it (keeps `tao --help` fast)."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from taokit.errors import UsageError

if TYPE_CHECKING:
    from taokit.tasks.base import Task

_TASKS = {
    "detectnet": "taokit.tasks.detectnet.task:DetectNetTask",
    "lanenet": "taokit.tasks.lanenet.task:LaneNetTask",
    "classification": "taokit.tasks.classification.task:ClassificationTask",
}


def task_names() -> list[str]:
    return list(_TASKS)


@cache
def get_task(name: str) -> Task:
    """Return the task instance registered under `name` (the CLI resolves aliases before this)."""
    if name not in _TASKS:
        raise UsageError(f"unknown task '{name}'; tasks are {', '.join(_TASKS)}")
    module_name, cls_name = _TASKS[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)()
