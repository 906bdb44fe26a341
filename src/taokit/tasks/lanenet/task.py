"""The lanenet task: registered so the CLI grammar is complete; its actions come with its own issue."""

from __future__ import annotations

from taokit.tasks.base import Task


class LaneNetTask(Task):
    name = "lanenet"
    summary = "lane detection (LaneNet)"
