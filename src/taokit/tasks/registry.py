"""The task registry: one line per task (its class and its TAO aliases), imported only when needed.

Adding a task is its folder under tasks/ and one line here; the CLI, `tao info` and the help texts
read everything else from the task class.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from taokit.errors import UsageError

if TYPE_CHECKING:
    from taokit.tasks.base import Task


class TaskEntry(NamedTuple):
    target: str  # "module:Class"
    aliases: tuple[str, ...] = ()  # the names TAO and TLT tutorials use


TASKS = {
    "detectnet": TaskEntry("taokit.tasks.detectnet.task:DetectNetTask", ("detectnet_v2",)),
    "lanenet": TaskEntry("taokit.tasks.lanenet.task:LaneNetTask"),
    "classification": TaskEntry("taokit.tasks.classification.task:ClassificationTask",
                                ("classification_tf1", "classification_pyt")),
}


def aliases() -> dict[str, str]:
    """Alias -> task name."""
    return {alias: name for name, entry in TASKS.items() for alias in entry.aliases}


def canonical(name: str) -> str:
    """The task a name or alias refers to; an unknown name is a one-line error listing the tasks."""
    name = aliases().get(name, name)
    if name not in TASKS:
        raise UsageError(f"unknown task '{name}'; tasks are {', '.join(TASKS)}")
    return name


def get_task(name: str) -> Task[Any]:
    """The task instance registered under `name` (or one of its aliases)."""
    return _instance(canonical(name))


@cache
def _instance(name: str) -> Task[Any]:
    module_name, cls_name = TASKS[name].target.split(":")
    return getattr(importlib.import_module(module_name), cls_name)()
