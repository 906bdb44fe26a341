"""evaluate: a model (.pth, .onnx or .engine) against labelled data; metrics.json in the results dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from taokit.actions.models import resolve_model
from taokit.engine.model_files import resolve_model_file
from taokit.engine.status import status_job
from taokit.requests import EvaluateRequest, Session
from taokit.results import EvaluationResult
from taokit.runtime.devices import requested_device
from taokit.spec import task_specs
from taokit.tasks.registry import get_task


@dataclass(frozen=True)
class EvaluateOptions:
    """The flags of `evaluate` beyond the session's."""

    batch_size: int | None = None
    image_dir: Path | None = None
    label_dir: Path | None = None
    use_training_set: bool = False
    backend: str | None = None
    device: str | None = None
    strict: bool = False
    classmap: Path | None = None


def run(task_name: str, spec_path: Path | None, model_path: Path | None, session: Session,
        options: EvaluateOptions = EvaluateOptions()) -> EvaluationResult:
    task = get_task(task_name)
    task.require("evaluate")
    if model_path is not None:
        model_path = resolve_model_file(model_path)  # before its recorded spec is looked for
    spec = task_specs.load(task, "evaluate", spec_path, session.overrides, model_path=model_path)
    model = resolve_model(task, spec, model_path, "evaluate")
    request = EvaluateRequest(
        model, results_dir=session.results_dir, batch_size=options.batch_size, image_dir=options.image_dir,
        label_dir=options.label_dir, use_training_set=options.use_training_set, backend=options.backend,
        device=requested_device(options.device, session.gpus, session.gpu_index), strict=options.strict,
        classmap=options.classmap)
    with status_job(session.results_dir, f"Starting {task.name} evaluation of {model}",
                    "Evaluation finished") as outcome:
        result = task.evaluate(spec, request)
        outcome.kpi = dict(result.metrics)
    return result
