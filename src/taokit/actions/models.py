"""Which model file an action opens: -m, else the one its spec names (TAO's eval_config.model_path)."""

from __future__ import annotations

from pathlib import Path

from taokit.engine.model_files import resolve_model_file
from taokit.errors import UsageError
from taokit.spec.base import SpecModel
from taokit.tasks.base import Task


def resolve_model(task: Task, spec: SpecModel | None, model_path: Path | None, action: str) -> Path:
    """-m wins; else the spec's model path; checked (with TAO file-name hints) before anything opens it."""
    path = model_path or (task.model_in_spec(spec, action) if spec is not None else None)
    if path is None:
        raise UsageError(f"{action} needs a model: pass -m/--model")
    return resolve_model_file(path)
