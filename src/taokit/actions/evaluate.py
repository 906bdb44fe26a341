"""evaluate: a model (.pth, .onnx or .engine) against labelled data; metrics.json in the results dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.actions.devices import device_for
from taokit.engine.status import FAILURE, STARTED, SUCCESS, StatusFile
from taokit.results import Result
from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class EvaluateRequest:
    results_dir: Path | None
    batch_size: int | None
    image_dir: Path | None
    label_dir: Path | None
    use_training_set: bool
    backend: str | None
    device: str | None
    strict: bool
    classmap: Path | None = None  # TAO's -cm: the class order a model without metadata was trained with


def run(task_name: str, spec_path: Path, model_path: Path, session: Any, *, batch_size: int | None = None,
        image_dir: Path | None = None, label_dir: Path | None = None, use_training_set: bool = False,
        backend: str | None = None, device: str | None = None, strict: bool = False,
        classmap: Path | None = None) -> Result:
    task = get_task(task_name)
    task.require("evaluate")
    spec = task.load_action_spec("evaluate", spec_path, session.overrides)
    request = EvaluateRequest(session.results_dir, batch_size, image_dir, label_dir, use_training_set, backend,
                              device_for(device, session), strict, classmap)
    status = StatusFile(session.results_dir)
    status.write(STARTED, f"Starting {task.name} evaluation of {model_path}")
    try:
        result = task.evaluate(spec, model_path, request)
    except BaseException as err:
        status.write(FAILURE, str(err).splitlines()[0] if str(err) else type(err).__name__)
        raise
    status.write(SUCCESS, "Evaluation finished", kpi=_kpi(result.data.get("metrics", {})))
    return result


def _kpi(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
