"""The classification task: registered so the CLI grammar is complete; actions come with its issue."""

from __future__ import annotations

from taokit.tasks.base import Task


class ClassificationTask(Task):
    name = "classification"
